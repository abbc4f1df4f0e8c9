# checkpointing_comparison.gp: run from this folder with `gnuplot checkpointing_comparison.gp` (writes checkpointing_comparison.png)
set terminal pngcairo size 1060,560 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'checkpointing_comparison.png'
set output cs_png
set datafile missing "?"
set multiplot layout 1,2 title 'memory: gradient checkpointing, peak memory and throughput (CPU)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:1.5]
unset arrow
unset label
set title 'peak activations (in brackets: the model''s whole peak)'
set ylabel 'MiB'
set yrange [0:74.4345]
plot 'checkpointing_comparison.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle
unset arrow
unset label
set title 'throughput'
set ylabel 'images/s'
set yrange [0:85.6815]
plot 'checkpointing_comparison.dat' using 0:4:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:4:5 with labels offset 0,1 notitle
unset multiplot

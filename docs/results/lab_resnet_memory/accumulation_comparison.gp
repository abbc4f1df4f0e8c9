# accumulation_comparison.gp: run from this folder with `gnuplot accumulation_comparison.gp` (writes accumulation_comparison.png)
set terminal pngcairo size 1060,560 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'accumulation_comparison.png'
set output cs_png
set datafile missing "?"
set multiplot layout 1,2 title 'memory: gradient accumulation, peak memory and throughput (CPU)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:3.5]
unset arrow
unset label
set title 'peak activations (in brackets: the model''s whole peak)'
set ylabel 'MiB'
set yrange [0:20.1061]
plot 'accumulation_comparison.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle
unset arrow
unset label
set title 'throughput (labels: images per optimizer step)'
set ylabel 'images/s'
set yrange [0:592.202]
plot 'accumulation_comparison.dat' using 0:4:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:4:5 with labels offset 0,1 notitle
unset multiplot

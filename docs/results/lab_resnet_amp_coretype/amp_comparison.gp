# amp_comparison.gp: run from this folder with `gnuplot amp_comparison.gp` (writes amp_comparison.png)
set terminal pngcairo size 1540,560 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'amp_comparison.png'
set output cs_png
set datafile missing "?"
set multiplot layout 1,3 title 'amp: fp32 against mixed precision (CPU)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:1.5]
unset arrow
unset label
set title 'throughput'
set ylabel 'images/s'
set yrange [0:519.009]
plot 'amp_comparison.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle
unset arrow
unset label
set title 'the model''s peak memory (above: its activations)'
set ylabel 'MiB'
set yrange [0:233.041]
plot 'amp_comparison.dat' using 0:4:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:4:5 with labels offset 0,1 notitle
unset arrow
unset label
set title 'speedup over fp32'
set ylabel 'x (median run)'
set yrange [0:1.18]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#cc3311"
set label 'fp32' at graph 0.01, first 1 offset 0,0.8 tc rgb "#cc3311"
plot 'amp_comparison.dat' using 0:6:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:6:7 with labels offset 0,1 notitle
unset multiplot

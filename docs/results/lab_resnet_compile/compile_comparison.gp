# compile_comparison.gp: run from this folder with `gnuplot compile_comparison.gp` (writes compile_comparison.png)
set terminal pngcairo size 1540,560 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'compile_comparison.png'
set output cs_png
set datafile missing "?"
set multiplot layout 1,3 title 'compile: eager against fused operations (CPU)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:1.5]
unset arrow
unset label
set title 'throughput'
set ylabel 'images/s'
set yrange [0:618.355]
plot 'compile_comparison.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle
unset arrow
unset label
set title 'batch norm, ReLU, adds, pooling per step'
set ylabel 'ms'
set yrange [0:7.50741]
plot 'compile_comparison.dat' using 0:4:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:4:5 with labels offset 0,1 notitle
unset arrow
unset label
set title 'speedup over eager'
set ylabel 'x (median run)'
set yrange [0:1.3594]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#cc3311"
set label 'eager' at graph 0.01, first 1 offset 0,0.8 tc rgb "#cc3311"
plot 'compile_comparison.dat' using 0:6:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:6:7 with labels offset 0,1 notitle
unset multiplot

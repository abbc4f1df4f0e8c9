# optimization_dashboard.gp: run from this folder with `gnuplot optimization_dashboard.gp` (writes optimization_dashboard.png)
set terminal pngcairo size 1060,1040 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'optimization_dashboard.png'
set output cs_png
set datafile missing "?"
set multiplot layout 2,2 title 'ResNet-18 optimization dashboard: the lab''s configurations, each on the one before (CPU)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:3.5]
set xtics rotate by -30
unset arrow
unset label
set title 'throughput'
set ylabel 'samples/s'
set yrange [0:551.243]
plot 'optimization_dashboard.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle
unset arrow
unset label
set title 'cumulative speedup'
set ylabel 'x over the first row'
set yrange [0:1.18]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#cc3311"
set label 'Baseline' at graph 0.01, first 1 offset 0,0.8 tc rgb "#cc3311"
plot 'optimization_dashboard.dat' using 0:4:xtic(1) with linespoints lw 2 pt 7 ps 1.2 lc rgb "#4477aa" notitle, \
     '' using 0:4:5 with labels offset 0,1 notitle
unset arrow
unset label
set title 'peak memory (the model''s)'
set ylabel 'MiB'
set yrange [0:280.167]
plot 'optimization_dashboard.dat' using 0:6:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:6:7 with labels offset 0,1 notitle
unset arrow
unset label
set title 'incremental speedup'
set ylabel 'x over the row before'
set yrange [0:1.22143]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#cc3311"
plot 'optimization_dashboard.dat' using 0:8:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:8:9 with labels offset 0,1 notitle
unset multiplot

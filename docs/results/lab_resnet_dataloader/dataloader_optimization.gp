# dataloader_optimization.gp: run from this folder with `gnuplot dataloader_optimization.gp` (writes dataloader_optimization.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'dataloader_optimization.png'
set output cs_png
set datafile missing "?"
set title 'dataloader: the lab''s configurations, epoch speedup over the baseline (CPU)'
set ylabel 'speedup (baseline epoch / epoch)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:2.5]
set yrange [0:1.15]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "#cc3311"
set label 'baseline' at graph 0.01, first 1 offset 0,0.8 tc rgb "#cc3311"
plot 'dataloader_optimization.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle

# max_batch.gp: run from this folder with `gnuplot max_batch.gp` (writes max_batch.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'max_batch.png'
set output cs_png
set datafile missing "?"
set title 'memory: the largest batch whose training fits in 512 MiB (host memory)'
set ylabel 'images per batch'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:3.5]
set yrange [0:1289.15]
plot 'max_batch.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle

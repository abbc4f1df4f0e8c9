# threads.gp: run from this folder with `gnuplot threads.gp` (writes threads.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'threads.png'
set output cs_png
set datafile missing "?"
set title 'fast: records per second by thread count'
set xlabel 'threads'
set ylabel 'records/s'
set grid
set key top left
set xtics 1
set format x '%.0f'
plot 'threads.dat' using 1:2 with linespoints lw 2 pt 7 title 'fast', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'linear from 1 thread'

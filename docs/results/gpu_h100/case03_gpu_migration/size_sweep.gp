# size_sweep.gp: run from this folder with `gnuplot size_sweep.gp` (writes size_sweep.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'size_sweep.png'
set output cs_png
set datafile missing "?"
set title 'One n x n SGEMM: CPU against GPU, with and without transfers'
set xlabel 'n'
set ylabel 'ms (log scale)'
set grid
set key top left
set logscale x
set logscale y
set arrow from 256, graph 0 to 256, graph 1 nohead dashtype 2 lw 2
set label 'crossover n = 256' at 256, graph 0.92 offset 1,0
plot 'size_sweep.dat' using 1:2 with linespoints lw 2 pt 7 title 'CPU blocked', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'GPU compute only', \
     '' using 1:4 with linespoints lw 2 pt 7 title 'GPU incl. transfers'

# size_sweep.gp: run from this folder with `gnuplot size_sweep.gp` (writes size_sweep.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'size_sweep.png'
set output cs_png
set datafile missing "?"
set title 'One n x n SGEMM on the CPU (no GPU in this run)'
set xlabel 'n'
set ylabel 'ms (log scale)'
set grid
set key top left
set logscale x
set logscale y
plot 'size_sweep.dat' using 1:2 with linespoints lw 2 pt 7 title 'CPU blocked'

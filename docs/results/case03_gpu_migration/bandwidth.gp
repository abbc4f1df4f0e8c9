# bandwidth.gp: run from this folder with `gnuplot bandwidth.gp` (writes bandwidth.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'bandwidth.png'
set output cs_png
set datafile missing "?"
set title 'Host memcpy bandwidth by size (no GPU in this run)'
set xlabel 'copy size (KiB, log scale)'
set ylabel 'GB/s'
set grid
set key top left
set logscale x
plot 'bandwidth.dat' using 1:2 with linespoints lw 2 pt 7 title 'host memcpy'

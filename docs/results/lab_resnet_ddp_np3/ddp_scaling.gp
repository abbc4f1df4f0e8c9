# ddp_scaling.gp: run from this folder with `gnuplot ddp_scaling.gp` (writes ddp_scaling.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'ddp_scaling.png'
set output cs_png
set datafile missing "?"
set title 'ddp: throughput against ranks, threads per rank fixed'
set xlabel 'ranks'
set ylabel 'images/s'
set grid
set key top left
set xtics 1
set format x '%.0f'
plot 'ddp_scaling.dat' using 1:2 with linespoints lw 2 pt 7 title 'measured (overlapped)', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'ideal: ranks x one rank'

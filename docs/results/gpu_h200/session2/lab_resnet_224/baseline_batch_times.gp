# baseline_batch_times.gp: run from this folder with `gnuplot baseline_batch_times.gp` (writes baseline_batch_times.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'baseline_batch_times.png'
set output cs_png
set datafile missing "?"
set title 'baseline: the time of every batch of the epoch'
set xlabel 'batch'
set ylabel 'ms'
set grid
set key top left
set xtics 63
set format x '%.0f'
set yrange [0:*]
plot 'baseline_batch_times.dat' using 1:2 with linespoints lw 2 pt 7 title 'batch time, loading included'

# num_workers_comparison.gp: run from this folder with `gnuplot num_workers_comparison.gp` (writes num_workers_comparison.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'num_workers_comparison.png'
set output cs_png
set datafile missing "?"
set title 'dataloader: throughput and epoch time against worker threads (GPU)'
set xlabel 'num_workers'
set ylabel 'images/s (loading included)'
set y2label 'epoch time (s)'
set grid
set key bottom center
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set xtics 1
set format x '%.0f'
plot 'num_workers_comparison.dat' using 1:2 axes x1y1 with linespoints lw 2 pt 7 title 'images/s (loading included)', \
     '' using 1:3 axes x1y2 with linespoints lw 2 pt 5 dt 2 title 'epoch time (s)'

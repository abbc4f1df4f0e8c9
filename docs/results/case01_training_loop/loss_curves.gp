# loss_curves.gp: run from this folder with `gnuplot loss_curves.gp` (writes loss_curves.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'loss_curves.png'
set output cs_png
set datafile missing "?"
set title 'case01: loss per step, every variant (the curves coincide)'
set xlabel 'step'
set ylabel 'batch loss'
set grid
set key top left
set xtics 1
set format x '%.0f'
plot 'loss_curves.dat' using 1:2 with linespoints lw 2 pt 7 title 'cpu_slow', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'cpu_batched', \
     '' using 1:4 with linespoints lw 2 pt 7 title 'cpu_fast'

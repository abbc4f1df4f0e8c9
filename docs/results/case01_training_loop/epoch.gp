# epoch.gp: run from this folder with `gnuplot epoch.gp` (writes epoch.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'epoch.png'
set output cs_png
set datafile missing "?"
set title 'case01: one epoch of training with cpu_fast'
set xlabel 'step'
set ylabel 'loss / accuracy'
set grid
set key top left
set xtics 24
set format x '%.0f'
plot 'epoch.dat' using 1:2 with linespoints lw 2 pt 7 title 'batch loss (cpu_fast)', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'batch accuracy (cpu_fast)'

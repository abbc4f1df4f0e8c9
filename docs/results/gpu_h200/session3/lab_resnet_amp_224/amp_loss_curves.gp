# amp_loss_curves.gp: run from this folder with `gnuplot amp_loss_curves.gp` (writes amp_loss_curves.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'amp_loss_curves.png'
set output cs_png
set datafile missing "?"
set title 'amp: training loss per step, same batches and initial weights (GPU)'
set xlabel 'step'
set ylabel 'training loss'
set grid
set key top left
set xtics 6
set format x '%.0f'
set key bottom left
plot 'amp_loss_curves.dat' using 1:2 with linespoints lw 2 pt 7 title 'fp32', \
     '' using 1:3 with linespoints lw 2 pt 7 title 'tf32', \
     '' using 1:4 with linespoints lw 2 pt 7 title 'fp16', \
     '' using 1:5 with linespoints lw 2 pt 7 title 'fp16_device_skip', \
     '' using 1:6 with linespoints lw 2 pt 7 title 'bf16'

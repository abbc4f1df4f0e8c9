# baseline_step_breakdown.gp: run from this folder with `gnuplot baseline_step_breakdown.gp` (writes baseline_step_breakdown.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'baseline_step_breakdown.png'
set output cs_png
set datafile missing "?"
set title 'baseline: where a batch''s time goes (mean of the timed batches)'
set ylabel 'ms per batch'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:5.5]
set yrange [0:43.3498]
plot 'baseline_step_breakdown.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle

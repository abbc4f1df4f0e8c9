# phases.gp: run from this folder with `gnuplot phases.gp` (writes phases.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'phases.png'
set output cs_png
set datafile missing "?"
set title 'Where the time goes: ms per run by phase (GPU phases: device time)'
set ylabel 'ms per run'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot 'phases.dat' using 2:xtic(1) title 'CPU matrix products', \
     '' using 3 title 'CPU elementwise + reduction'

# phases_cpu.gp: run from this folder with `gnuplot phases_cpu.gp` (writes phases_cpu.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'phases_cpu.png'
set output cs_png
set datafile missing "?"
set title 'case01: where a training step''s time goes on the CPU (ms per step)'
set ylabel 'ms per step'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot 'phases_cpu.dat' using 2:xtic(1) title 'alloc', \
     '' using 3 title 'data', \
     '' using 4 title 'forward', \
     '' using 5 title 'backward', \
     '' using 6 title 'update', \
     '' using 7 title 'sync/logging'

# phases_cpu.gp: run from this folder with `gnuplot phases_cpu.gp` (writes phases_cpu.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'phases_cpu.png'
set output cs_png
set datafile missing "?"
set title 'case01: where a training step''s time goes on the CPU'
set ylabel '% of the bar''s total (the total above it, in ms per step)'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key below horizontal
set yrange [0:112]
set ytics 0, 20, 100
plot 'phases_cpu.dat' using 3:xtic(1) title 'alloc', \
     '' using 4 title 'data', \
     '' using 5 title 'forward', \
     '' using 6 title 'backward', \
     '' using 7 title 'update', \
     '' using 8 title 'sync/logging', \
     '' using 0:(104):(sprintf("%.4g", $2)) with labels notitle

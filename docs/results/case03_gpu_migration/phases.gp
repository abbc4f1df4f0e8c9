# phases.gp: run from this folder with `gnuplot phases.gp` (writes phases.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'phases.png'
set output cs_png
set datafile missing "?"
set title 'Where the time goes, by phase'
set ylabel '% of the bar''s total (the total above it, in ms per run)'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key below horizontal
set yrange [0:112]
set ytics 0, 20, 100
plot 'phases.dat' using 3:xtic(1) title 'CPU matrix products', \
     '' using 4 title 'CPU elementwise + reduction', \
     '' using 0:(104):(sprintf("%.4g", $2)) with labels notitle

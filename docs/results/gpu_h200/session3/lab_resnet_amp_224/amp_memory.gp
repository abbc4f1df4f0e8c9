# amp_memory.gp: run from this folder with `gnuplot amp_memory.gp` (writes amp_memory.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'amp_memory.png'
set output cs_png
set datafile missing "?"
set title 'amp: the model''s peak memory by category (device)'
set ylabel '% of the bar''s total (the total above it, in MiB)'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key below horizontal
set yrange [0:112]
set ytics 0, 20, 100
plot 'amp_memory.dat' using 3:xtic(1) title 'activations', \
     '' using 4 title 'weights', \
     '' using 5 title 'gradients', \
     '' using 6 title 'optimizer', \
     '' using 7 title 'workspace', \
     '' using 0:(104):(sprintf("%.4g", $2)) with labels notitle

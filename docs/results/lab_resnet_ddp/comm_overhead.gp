# comm_overhead.gp: run from this folder with `gnuplot comm_overhead.gp` (writes comm_overhead.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'comm_overhead.png'
set output cs_png
set datafile missing "?"
set title 'ddp: where a global batch''s time goes (rank 0)'
set ylabel '% of the bar''s total (the total above it, in ms per global batch)'
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key below horizontal
set yrange [0:112]
set ytics 0, 20, 100
plot 'comm_overhead.dat' using 3:xtic(1) title 'compute', \
     '' using 4 title 'bucket copies', \
     '' using 5 title 'communication (MPI)', \
     '' using 0:(104):(sprintf("%.4g", $2)) with labels notitle

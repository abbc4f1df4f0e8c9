# variants.gp: run from this folder with `gnuplot variants.gp` (writes variants.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'variants.png'
set output cs_png
set datafile missing "?"
set title 'case03: median time per run by variant (speedup over the baseline)'
set ylabel 'ms per run (log scale)'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:2.5]
set logscale y
set yrange [3.52025:3358.44]
plot 'variants.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle

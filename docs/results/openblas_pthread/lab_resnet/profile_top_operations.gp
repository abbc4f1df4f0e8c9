# profile_top_operations.gp: run from this folder with `gnuplot profile_top_operations.gp` (writes profile_top_operations.png)
set terminal pngcairo size 1000,600 noenhanced font "sans,11"
if (!exists("cs_png")) cs_png = 'profile_top_operations.png'
set output cs_png
set datafile missing "?"
set title 'profile: the operation types by time per step (top 10; host clock; % of a step)'
set ylabel 'ms per step'
set grid ytics
set key off
set style fill solid 0.8 border -1
set boxwidth 0.6
set xrange [-0.5:9.5]
set xtics rotate by -30
set yrange [0:39.8299]
plot 'profile_top_operations.dat' using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     '' using 0:2:3 with labels offset 0,1 notitle

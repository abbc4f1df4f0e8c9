# claims.gp: the course's claimed ranges (bars) against the measured points.
set terminal pngcairo size 1200,652 font ",10"
set output "claims.png"
set ytics scale 0
set yrange [-0.7:13.7]
set grid xtics
set multiplot layout 1,2 title "The course's claims (grey: the range claimed) against this machine's measurements (red)"
set lmargin 44
set rmargin 2
unset key
set xlabel "speedup (x)"
set logscale x
set xrange [0.3:200]
plot "claims.dat" using (strcol(6) eq "x" ? $3 : 1/0):1:($3 == $4 ? 0.9 * $3 : $3):($3 == $4 ? 1.1 * $4 : $4):($1-0.3):($1+0.3):ytic(2) \
       with boxxyerror fc rgb "#bbbbbb" fs solid title "claimed", \
     "" using (strcol(6) eq "x" ? $5 : 1/0):1 with points pt 7 ps 1.4 lc rgb "#cc3311" title "measured"
unset logscale x
set xrange [0:60]
set format y ""
set lmargin 2
set key top right
set xlabel "saving or slowdown (%)"
plot "claims.dat" using (strcol(6) eq "%" ? $3 : 1/0):1:3:4:($1-0.3):($1+0.3) with boxxyerror fc rgb "#bbbbbb" fs solid \
       title "claimed", \
     "" using (strcol(6) eq "%" ? $5 : 1/0):1 with points pt 7 ps 1.4 lc rgb "#cc3311" title "measured"
unset multiplot

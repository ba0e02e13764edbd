set terminal pngcairo size 1000,600 noenhanced
set datafile separator whitespace
set key outside right
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -45
set output 'fig7_phases.png'
set title 'Runtime by phase, taskdist dynamic (medians; cf. the paper, Fig. 7)'
set ylabel 'seconds'
plot 'phases.dat' using 2:xtic(1) title 'first sequential', '' using 3 title 'parallel', '' using 4 title 'second sequential'
set output 'fig10_shares.png'
set title 'Share of each phase, taskdist dynamic (cf. the paper, Fig. 10)'
set ylabel 'percent of the total'
set yrange [0:100]
plot 'phases.dat' using 5:xtic(1) title 'first sequential', '' using 6 title 'parallel', '' using 7 title 'second sequential'
set yrange [*:*]
set datafile separator whitespace
set xrange [15000:15360000]
set style data linespoints
set xtics norotate
set output 'efficiency.png'
set title 'Efficiency against problem size'
set xlabel 'pixels'
set ylabel 'efficiency (speedup / nodes)'
set logscale x 10
set yrange [0:1.2]
plot 'efficiency.dat' index 0 using 1:2 title 'predicted, dynamic, 1 nodes', 'efficiency.dat' index 1 using 1:2 title 'predicted, dynamic, 2 nodes', 'efficiency.dat' index 2 using 1:2 title 'predicted, dynamic, 4 nodes', 'efficiency.dat' index 3 using 1:2 title 'predicted, dynamic, 8 nodes', 'efficiency.dat' index 4 using 1:2 title 'predicted, static, 1 nodes', 'efficiency.dat' index 5 using 1:2 title 'predicted, static, 2 nodes', 'efficiency.dat' index 6 using 1:2 title 'predicted, static, 4 nodes', 'efficiency.dat' index 7 using 1:2 title 'predicted, static, 8 nodes', 'efficiency.dat' index 8 using 1:2 title 'taskdist dynamic, 1 nodes', 'efficiency.dat' index 9 using 1:2 title 'taskdist dynamic, 2 nodes', 'efficiency.dat' index 10 using 1:2 title 'taskdist dynamic, 4 nodes', 'efficiency.dat' index 11 using 1:2 title 'taskdist dynamic, 8 nodes', 'efficiency.dat' index 12 using 1:2 title 'taskdist static, 1 nodes', 'efficiency.dat' index 13 using 1:2 title 'taskdist static, 2 nodes', 'efficiency.dat' index 14 using 1:2 title 'taskdist static, 4 nodes', 'efficiency.dat' index 15 using 1:2 title 'taskdist static, 8 nodes'
reset
set terminal pngcairo size 1500,854 noenhanced
set output 'fig9_speedup.png'
set multiplot title 'Speedup against one node (cf. the paper, Fig. 9)'
set grid
set xlabel 'nodes'
set ylabel 'speedup'
set samples 500
unset key
set xrange [1:8]
set yrange [0:5.028]
set xtics 1
set origin 0.0000,0.5199
set size 0.3333,0.4450
set title '200x150'
plot x with lines lc 'black' dt 2 notitle, 'speedup.dat' index 0 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 1 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 2 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 3 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 4 using 1:2 with points lc 'black' pt 5 ps 1.2 notitle
set origin 0.3333,0.5199
set size 0.3333,0.4450
set title '400x300'
plot x with lines lc 'black' dt 2 notitle, 'speedup.dat' index 5 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 6 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 7 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 8 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 9 using 1:2 with points lc 'black' pt 5 ps 1.2 notitle
set origin 0.6667,0.5199
set size 0.3333,0.4450
set title '800x600'
plot x with lines lc 'black' dt 2 notitle, 'speedup.dat' index 10 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 11 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 12 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 13 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 14 using 1:2 with points lc 'black' pt 5 ps 1.2 notitle
set origin 0.0000,0.0749
set size 0.3333,0.4450
set title '1600x1200'
plot x with lines lc 'black' dt 2 notitle, 'speedup.dat' index 15 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 16 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 17 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 18 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 19 using 1:2 with points lc 'black' pt 5 ps 1.2 notitle
set origin 0.3333,0.0749
set size 0.3333,0.4450
set title '3200x2400'
plot x with lines lc 'black' dt 2 notitle, 'speedup.dat' index 20 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 21 using 1:2 with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 22 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 notitle, 'speedup.dat' index 23 using 1:2 with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 notitle, 'speedup.dat' index 24 using 1:2 with points lc 'black' pt 5 ps 1.2 notitle
set origin 0,0
set size 1,0.0749
unset border
unset tics
unset grid
unset title
unset xlabel
unset ylabel
unset logscale
set xrange [0:1]
set yrange [0:1]
set key at screen 0.5,0.0375 center center horizontal reverse Left maxcols 4
plot NaN with lines lc 'black' dt 2 title 'ideal (speedup = nodes)', NaN with linespoints lc rgb '#1f77b4' lw 2 dt 1 pt 7 ps 1.2 title 'taskdist dynamic', NaN with linespoints lc rgb '#1f77b4' lw 2 dt 2 pt 6 ps 1.2 title 'predicted, dynamic', NaN with linespoints lc rgb '#ff7f0e' lw 2 dt 1 pt 7 ps 1.2 title 'taskdist static', NaN with linespoints lc rgb '#ff7f0e' lw 2 dt 2 pt 6 ps 1.2 title 'predicted, static', NaN with points lc 'black' pt 5 ps 1.2 title 'paper''s Pi cluster (Table 2)'
unset multiplot

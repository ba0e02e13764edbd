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
set style data linespoints
set xtics norotate
set output 'fig9_speedup.png'
set title 'Speedup against one node (cf. the paper, Fig. 9)'
set xlabel 'nodes'
set ylabel 'speedup'
set xrange [1:*]
set datafile separator ','
plot x title 'ideal' with lines dashtype 2 lc rgb 'black', 'speedup.dat' index 0 using 1:2 title 'paper method 12800x9600', 'speedup.dat' index 1 using 1:2 title 'taskdist dynamic 12800x9600', '/work/main/bench/anchors/paper_table2.csv' using (($2==12800 && $3==9600) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 12800x9600'
set datafile separator whitespace
set xrange [*:*]
set output 'efficiency.png'
set title 'Efficiency against problem size'
set xlabel 'pixels'
set ylabel 'efficiency (speedup / nodes)'
set logscale x 10
set yrange [0:1.2]
plot 'efficiency.dat' index 0 using 1:2 title 'paper method, 2 nodes', 'efficiency.dat' index 1 using 1:2 title 'taskdist dynamic, 2 nodes'

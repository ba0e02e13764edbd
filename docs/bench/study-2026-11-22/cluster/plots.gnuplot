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
plot x title 'ideal' with lines dashtype 2 lc rgb 'black', 'speedup.dat' index 0 using 1:2 title 'paper method 1600x1200', 'speedup.dat' index 1 using 1:2 title 'paper method 200x150', 'speedup.dat' index 2 using 1:2 title 'paper method 3200x2400', 'speedup.dat' index 3 using 1:2 title 'paper method 400x300', 'speedup.dat' index 4 using 1:2 title 'paper method 800x600', 'speedup.dat' index 5 using 1:2 title 'taskdist dynamic 1600x1200', 'speedup.dat' index 6 using 1:2 title 'taskdist dynamic 200x150', 'speedup.dat' index 7 using 1:2 title 'taskdist dynamic 3200x2400', 'speedup.dat' index 8 using 1:2 title 'taskdist dynamic 400x300', 'speedup.dat' index 9 using 1:2 title 'taskdist dynamic 800x600', 'speedup.dat' index 10 using 1:2 title 'taskdist static 1600x1200', 'speedup.dat' index 11 using 1:2 title 'taskdist static 200x150', 'speedup.dat' index 12 using 1:2 title 'taskdist static 3200x2400', 'speedup.dat' index 13 using 1:2 title 'taskdist static 400x300', 'speedup.dat' index 14 using 1:2 title 'taskdist static 800x600', '/work/main/bench/anchors/paper_table2.csv' using (($2==1600 && $3==1200) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 1600x1200', '/work/main/bench/anchors/paper_table2.csv' using (($2==200 && $3==150) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 200x150', '/work/main/bench/anchors/paper_table2.csv' using (($2==3200 && $3==2400) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 3200x2400', '/work/main/bench/anchors/paper_table2.csv' using (($2==400 && $3==300) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 400x300', '/work/main/bench/anchors/paper_table2.csv' using (($2==800 && $3==600) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 title 'paper (Pi cluster, Table 2) 800x600'
set datafile separator whitespace
set xrange [15000:15360000]
set output 'efficiency.png'
set title 'Efficiency against problem size'
set xlabel 'pixels'
set ylabel 'efficiency (speedup / nodes)'
set logscale x 10
set yrange [0:1.2]
plot 'efficiency.dat' index 0 using 1:2 title 'paper method, 1 nodes', 'efficiency.dat' index 1 using 1:2 title 'paper method, 2 nodes', 'efficiency.dat' index 2 using 1:2 title 'paper method, 4 nodes', 'efficiency.dat' index 3 using 1:2 title 'paper method, 8 nodes', 'efficiency.dat' index 4 using 1:2 title 'taskdist dynamic, 1 nodes', 'efficiency.dat' index 5 using 1:2 title 'taskdist dynamic, 2 nodes', 'efficiency.dat' index 6 using 1:2 title 'taskdist dynamic, 4 nodes', 'efficiency.dat' index 7 using 1:2 title 'taskdist dynamic, 8 nodes', 'efficiency.dat' index 8 using 1:2 title 'taskdist static, 1 nodes', 'efficiency.dat' index 9 using 1:2 title 'taskdist static, 2 nodes', 'efficiency.dat' index 10 using 1:2 title 'taskdist static, 4 nodes', 'efficiency.dat' index 11 using 1:2 title 'taskdist static, 8 nodes'

#include "report/bench_report.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

namespace taskdist {
namespace {

namespace fs = std::filesystem;

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.min = *std::ranges::min_element(v);
  s.max = *std::ranges::max_element(v);
  s.median = median(std::move(v));
  return s;
}

std::string size_label(const BenchRow& r) { return fmt::format("{}x{}", r.width, r.height); }

// A row's series as tables and legends name it: "taskdist dynamic", "paper's method", and for the
// simulator's rows "predicted, dynamic".
std::string series(const BenchRow& r) {
  if (r.method == "paper") return "paper's method";
  if (r.method == "simulate") return "predicted, " + r.policy;
  return r.method + " " + r.policy;
}

// `text` as a gnuplot string literal: single quotes, and a quote inside doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The first line a command prints, or "unknown".
std::string first_line_of(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    std::array<char, 512> buf{};
    if (std::fgets(buf.data(), buf.size(), p)) out = buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string read_first(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key)) {
      auto v = line.substr(line.find(':') + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "unknown";
}

}  // namespace

std::expected<void, Error> write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return fail(fmt::format("cannot write '{}'", path.string()));
  return {};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::ranges::sort(v);
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<BenchRow> aggregate(const std::vector<BenchSample>& samples) {
  using Key = std::tuple<std::string, std::string, int, int, int>;
  std::map<Key, std::vector<const BenchSample*>> groups;
  for (const auto& s : samples) groups[{s.method, s.policy, s.width, s.height, s.nodes}].push_back(&s);
  std::vector<BenchRow> rows;
  for (const auto& [key, list] : groups) {
    BenchRow r;
    std::tie(r.method, r.policy, r.width, r.height, r.nodes) = key;
    std::vector<double> a, b, c, t;
    r.runs = static_cast<int>(list.size());
    for (const BenchSample* s : list) {
      if (!s->ok) {
        if (r.status.empty()) r.status = "failed: " + s->error;
        continue;
      }
      ++r.ok_runs;
      a.push_back(s->seq1_s);
      b.push_back(s->parallel_s);
      c.push_back(s->seq2_s);
      t.push_back(s->total_s);
      r.master_peak_rss_bytes = std::max(r.master_peak_rss_bytes, s->master_peak_rss_bytes);
      r.worker_peak_rss_bytes = std::max(r.worker_peak_rss_bytes, s->worker_peak_rss_bytes);
    }
    if (r.status.empty()) r.status = "ok";
    r.seq1 = stats_of(a);
    r.parallel = stats_of(b);
    r.seq2 = stats_of(c);
    r.total = stats_of(t);
    if (r.total.median > 0) {
      r.seq1_pct = 100 * r.seq1.median / r.total.median;
      r.parallel_pct = 100 * r.parallel.median / r.total.median;
      r.seq2_pct = 100 * r.seq2.median / r.total.median;
    }
    rows.push_back(r);
  }
  // Speedup against the same method and policy on one node.
  for (auto& r : rows) {
    for (const auto& one : rows) {
      if (one.nodes == 1 && one.method == r.method && one.policy == r.policy &&
          one.width == r.width && one.height == r.height && one.total.median > 0 &&
          r.total.median > 0) {
        r.speedup = one.total.median / r.total.median;
        r.efficiency = r.speedup / r.nodes;
      }
    }
  }
  std::ranges::sort(rows, [](const BenchRow& x, const BenchRow& y) {
    return std::tie(x.method, x.policy, x.width, x.nodes) <
           std::tie(y.method, y.policy, y.width, y.nodes);
  });
  return rows;
}

std::vector<std::string> csv_columns() {
  std::vector<std::string> cols = {"method", "policy", "width", "height", "nodes", "runs",
                                   "ok_runs", "status"};
  for (const char* phase : {"seq1", "parallel", "seq2", "total"}) {
    for (const char* stat : {"mean", "median", "min", "max"}) {
      cols.push_back(fmt::format("{}_{}_s", phase, stat));
    }
  }
  for (const char* c : {"speedup", "efficiency", "seq1_pct", "parallel_pct", "seq2_pct",
                        "master_peak_rss_mib", "worker_peak_rss_mib"}) {
    cols.emplace_back(c);
  }
  return cols;
}

std::expected<void, Error> write_csv(const std::vector<BenchRow>& rows, const fs::path& path) {
  std::string out;
  const auto cols = csv_columns();
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
  out += '\n';
  for (const auto& r : rows) {
    std::string status = r.status;
    std::ranges::replace(status, ',', ';');
    std::ranges::replace(status, '\n', ' ');
    out += fmt::format("{},{},{},{},{},{},{},\"{}\"", r.method, r.policy, r.width, r.height,
                       r.nodes, r.runs, r.ok_runs, status);
    for (const Stats* s : {&r.seq1, &r.parallel, &r.seq2, &r.total}) {
      out += fmt::format(",{:.4f},{:.4f},{:.4f},{:.4f}", s->mean, s->median, s->min, s->max);
    }
    out += fmt::format(",{:.3f},{:.3f},{:.2f},{:.2f},{:.2f},{:.1f},{:.1f}\n", r.speedup,
                       r.efficiency, r.seq1_pct, r.parallel_pct, r.seq2_pct,
                       static_cast<double>(r.master_peak_rss_bytes) / (1 << 20),
                       static_cast<double>(r.worker_peak_rss_bytes) / (1 << 20));
  }
  return write_text(path, out);
}

namespace {

// The data of Figs. 7 and 10 (phases of the main series) and of the efficiency figure (one
// gnuplot "index" block per series and node count).
struct PlotData {
  std::string main_series;
  std::string phases = "# label seq1 parallel seq2 seq1_pct parallel_pct seq2_pct\n";
  std::string efficiency;
  std::vector<std::string> efficiency_titles;
};

PlotData plot_data(const std::vector<BenchRow>& rows) {
  PlotData d;
  std::set<std::string> names;
  for (const auto& r : rows) names.insert(series(r));
  d.main_series = names.contains("taskdist dynamic") ? "taskdist dynamic" : *names.begin();
  for (const auto& r : rows) {
    if (series(r) != d.main_series || r.ok_runs == 0) continue;
    d.phases += fmt::format("\"{} n{}\" {:.4f} {:.4f} {:.4f} {:.2f} {:.2f} {:.2f}\n",
                            size_label(r), r.nodes, r.seq1.median, r.parallel.median,
                            r.seq2.median, r.seq1_pct, r.parallel_pct, r.seq2_pct);
  }
  for (const auto& name : names) {
    std::set<int> counts;
    for (const auto& r : rows) {
      if (series(r) == name) counts.insert(r.nodes);
    }
    for (int n : counts) {
      d.efficiency_titles.push_back(fmt::format("{}, {} nodes", name, n));
      for (const auto& r : rows) {
        if (series(r) == name && r.nodes == n && r.efficiency > 0) {
          d.efficiency += fmt::format("{} {:.4f}\n", static_cast<long long>(r.width) * r.height,
                                      r.efficiency);
        }
      }
      d.efficiency += "\n\n";
    }
  }
  return d;
}

// Fig. 7 and Fig. 10 of the paper: the phases of the main series, stacked.
std::string phase_figures(const PlotData& d) {
  std::string script = R"(set terminal pngcairo size 1000,600 noenhanced
set datafile separator whitespace
set key outside right
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -45
)";
  script += fmt::format(R"(set output 'fig7_phases.png'
set title {}
set ylabel 'seconds'
plot 'phases.dat' using 2:xtic(1) title 'first sequential', '' using 3 title 'parallel', '' using 4 title 'second sequential'
set output 'fig10_shares.png'
set title {}
set ylabel 'percent of the total'
set yrange [0:100]
plot 'phases.dat' using 5:xtic(1) title 'first sequential', '' using 6 title 'parallel', '' using 7 title 'second sequential'
set yrange [*:*]
)",
                        quoted(fmt::format("Runtime by phase, {} (medians; cf. the paper, Fig. 7)",
                                           d.main_series)),
                        quoted(fmt::format("Share of each phase, {} (cf. the paper, Fig. 10)",
                                           d.main_series)));
  return script;
}

// Efficiency against the problem size (pixels), one line per series and node count.
std::string efficiency_figure(const std::vector<BenchRow>& rows, const PlotData& d) {
  // The pixel range, widened: a study of one size still has a valid x range.
  double fewest = 0, most = 0;
  for (const auto& r : rows) {
    const double px = static_cast<double>(r.width) * r.height;
    fewest = fewest == 0 ? px : std::min(fewest, px);
    most = std::max(most, px);
  }
  std::string script = fmt::format("set datafile separator whitespace\nset xrange [{}:{}]\n",
                                   std::max(1.0, fewest / 2), std::max(2.0, most * 2));
  script += R"(set style data linespoints
set xtics norotate
set output 'efficiency.png'
set title 'Efficiency against problem size'
set xlabel 'pixels'
set ylabel 'efficiency (speedup / nodes)'
set logscale x 10
set yrange [0:1.2]
plot )";
  for (size_t i = 0; i < d.efficiency_titles.size(); ++i) {
    script += fmt::format("{}'efficiency.dat' index {} using 1:2 title {}", i ? ", " : "", i,
                          quoted(d.efficiency_titles[i]));
  }
  return script + "\n";
}

using Size = std::pair<int, int>;  // width, height

// The paper's own speedups (Raspberry Pi cluster, Table 2) by image size: nodes and speedup,
// columns 1 and 8 of `csv`. Comment and header lines, and a missing file, give nothing.
std::map<Size, std::vector<std::pair<int, double>>> paper_speedups(const fs::path& csv) {
  std::map<Size, std::vector<std::pair<int, double>>> out;
  std::ifstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with('#')) continue;
    std::ranges::replace(line, ',', ' ');
    std::istringstream fields(line);
    int nodes = 0, width = 0, height = 0;
    double unused = 0, speedup = 0;
    if (fields >> nodes >> width >> height >> unused >> unused >> unused >> unused >> speedup) {
      out[{width, height}].emplace_back(nodes, speedup);
    }
  }
  return out;
}

// Fig. 9's series with their gnuplot styles, in legend order. One colour per method, the same in
// every panel; the simulator's prediction for policy P takes the colour of "taskdist P", dashed
// and with open points, so that a prediction reads beside the runs it predicts.
std::vector<std::pair<std::string, std::string>> series_styles(
    const std::vector<const BenchRow*>& rows) {
  constexpr std::array<std::string_view, 3> kFixed = {"taskdist dynamic", "taskdist static",
                                                      "paper -"};
  // kFixed's colours, then a palette for other methods in name order.
  constexpr std::array<std::string_view, 10> kColours = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                         "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                         "#bcbd22", "#17becf"};
  const auto method_of = [](const BenchRow& r) {
    return (r.method == "simulate" ? std::string("taskdist") : r.method) + " " + r.policy;
  };
  const auto fixed_of = [&](const std::string& method) {
    return std::ranges::find(kFixed, std::string_view(method));
  };
  std::set<std::string> others;
  for (const BenchRow* r : rows) {
    if (fixed_of(method_of(*r)) == kFixed.end()) others.insert(method_of(*r));
  }
  std::map<std::tuple<size_t, bool, std::string>, std::string> ordered;  // by colour, predicted
  for (const BenchRow* r : rows) {
    const std::string method = method_of(*r);
    const auto fixed = fixed_of(method);
    const auto other = static_cast<size_t>(std::distance(others.begin(), others.find(method)));
    const size_t colour = fixed != kFixed.end()
                              ? static_cast<size_t>(fixed - kFixed.begin())
                              : kFixed.size() + other % (kColours.size() - kFixed.size());
    const bool predicted = r->method == "simulate";
    ordered[{colour, predicted, series(*r)}] =
        fmt::format("with linespoints lc rgb '{}' lw 2 dt {} pt {} ps 1.2", kColours[colour],
                    predicted ? 2 : 1, predicted ? 6 : 7);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, style] : ordered) out.emplace_back(std::get<2>(key), style);
  return out;
}

constexpr const char* kIdeal = "ideal (speedup = nodes)";
constexpr const char* kPaperPoints = "paper's Pi cluster (Table 2)";

// One panel of Fig. 9: an image size and the blocks of speedup.dat drawn in it.
struct SpeedupPanel {
  std::string size;                                 ///< "1600x1200"
  std::vector<std::pair<int, std::string>> blocks;  ///< gnuplot "index", legend entry
};

struct SpeedupData {
  std::string dat;  ///< speedup.dat: "nodes speedup" blocks, each named by a comment
  std::vector<SpeedupPanel> panels;           ///< one per image size, in increasing pixel order
  std::vector<std::string> legend;            ///< the entries, in order
  std::map<std::string, std::string> styles;  ///< legend entry -> gnuplot "with ..."
  int max_nodes = 1;
  double max_speedup = 0;  ///< over everything drawn
};

// Rows without a speedup (no successful run, or none on one node) are left out.
SpeedupData speedup_data(const std::vector<BenchRow>& rows, const fs::path& paper_csv) {
  std::vector<const BenchRow*> shown;
  for (const auto& r : rows) {
    if (r.ok_runs > 0 && r.speedup > 0) shown.push_back(&r);
  }
  std::ranges::stable_sort(shown, {}, &BenchRow::nodes);
  SpeedupData d;
  std::vector<Size> sizes;
  for (const BenchRow* r : shown) {
    sizes.emplace_back(r->width, r->height);
    d.max_nodes = std::max(d.max_nodes, r->nodes);
    d.max_speedup = std::max(d.max_speedup, r->speedup);
  }
  std::ranges::sort(sizes, {}, [](Size s) { return std::pair(int64_t{s.first} * s.second, s); });
  sizes.erase(std::ranges::unique(sizes).begin(), sizes.end());

  const auto styles = series_styles(shown);
  d.legend.emplace_back(kIdeal);
  for (const auto& [name, style] : styles) d.legend.push_back(name);
  d.styles.insert(styles.begin(), styles.end());
  d.styles[kIdeal] = "with lines lc 'black' dt 2";
  d.styles[kPaperPoints] = "with points lc 'black' pt 5 ps 1.2";

  const auto paper = paper_speedups(paper_csv);
  int blocks = 0;
  bool paper_shown = false;
  for (const auto& [width, height] : sizes) {
    SpeedupPanel& panel =
        d.panels.emplace_back(SpeedupPanel{fmt::format("{}x{}", width, height), {}});
    const auto add = [&](const std::string& name, const std::string& points) {
      if (points.empty()) return;
      d.dat += fmt::format("# {} {}\n{}\n\n", panel.size, name, points);
      panel.blocks.emplace_back(blocks++, name);
    };
    for (const auto& [name, style] : styles) {
      std::string points;
      for (const BenchRow* r : shown) {
        if (r->width == width && r->height == height && series(*r) == name) {
          points += fmt::format("{} {:.4f}\n", r->nodes, r->speedup);
        }
      }
      add(name, points);
    }
    // The paper's speedups at this size, those within the x range.
    std::string points;
    if (const auto it = paper.find({width, height}); it != paper.end()) {
      for (const auto& [nodes, speedup] : it->second) {
        if (nodes > d.max_nodes) continue;
        points += fmt::format("{} {:.4f}\n", nodes, speedup);
        d.max_speedup = std::max(d.max_speedup, speedup);
      }
    }
    paper_shown = paper_shown || !points.empty();
    add(kPaperPoints, points);
  }
  if (paper_shown) d.legend.emplace_back(kPaperPoints);
  return d;
}

// Fig. 9 of the paper: speedup against nodes, one panel per image size as the paper has one
// diagram per resolution, with the paper's own speedups where it has the size. The panels share
// their axes and one legend below them, so that they compare at a glance.
std::string speedup_figure(const SpeedupData& d) {
  constexpr int kPanelWidth = 500, kPanelHeight = 380, kTitleHeight = 30;
  // Drawn last and from defaults, so that no other figure's settings leak in or out.
  std::string script = "reset\n";
  if (d.panels.empty()) {
    return script +
           "set terminal pngcairo size 500,380 noenhanced\nset output 'fig9_speedup.png'\n"
           "set title 'Speedup: no successful runs'\nplot [1:2] [0:1] NaN notitle\n";
  }
  const int panels = static_cast<int>(d.panels.size());
  const int cols = static_cast<int>(std::ceil(std::sqrt(panels)));
  const int rows = (panels + cols - 1) / cols;
  const int width = cols * kPanelWidth;
  // gnuplot fits a key into the plot that draws it, so the legend is a blank plot across the
  // bottom; its height is estimated from the longest entry (9 px a character and the sample).
  size_t longest = 0;
  for (const auto& entry : d.legend) longest = std::max(longest, entry.size());
  const int entries = static_cast<int>(d.legend.size());
  const int key_cols = std::clamp((width - 40) / (static_cast<int>(longest + 8) * 9), 1, entries);
  const int key_height = 20 + 22 * ((entries + key_cols - 1) / key_cols);
  const int height = rows * kPanelHeight + kTitleHeight + key_height;
  const auto screen_y = [&](int px) { return static_cast<double>(px) / height; };
  script += fmt::format(R"(set terminal pngcairo size {},{} noenhanced
set output 'fig9_speedup.png'
set multiplot title 'Speedup against one node (cf. the paper, Fig. 9)'
set grid
set xlabel 'nodes'
set ylabel 'speedup'
set samples 500
unset key
set xrange [1:{}]
set yrange [0:{:.4g}]
)",
                        width, height, std::max(2, d.max_nodes), 1.1 * d.max_speedup);
  // The simulator goes up to thousands of nodes: doublings on a log scale. The y axis stays
  // linear and the ideal line may leave the panels at the top. Tics at whole node counts.
  if (d.max_nodes > 16) {
    script += fmt::format("set logscale x 2\nset xtics {}\n", d.max_nodes <= 256 ? 2 : 4);
  } else {
    script += fmt::format("set xtics {}\n", std::max(1, d.max_nodes / 8));
  }
  for (int i = 0; i < panels; ++i) {
    const int row = i / cols, col = i % cols;
    script += fmt::format("set origin {:.4f},{:.4f}\nset size {:.4f},{:.4f}\nset title {}\n",
                          static_cast<double>(col) / cols,
                          screen_y(key_height + (rows - 1 - row) * kPanelHeight), 1.0 / cols,
                          screen_y(kPanelHeight), quoted(d.panels[i].size));
    script += fmt::format("plot x {} notitle", d.styles.at(kIdeal));
    for (const auto& [block, name] : d.panels[i].blocks) {
      script +=
          fmt::format(", 'speedup.dat' index {} using 1:2 {} notitle", block, d.styles.at(name));
    }
    script += "\n";
  }
  script += fmt::format(R"(set origin 0,0
set size 1,{:.4f}
unset border
unset tics
unset grid
unset title
unset xlabel
unset ylabel
unset logscale
set xrange [0:1]
set yrange [0:1]
set key at screen 0.5,{:.4f} center center horizontal reverse Left maxcols {}
plot )",
                        screen_y(key_height), screen_y(key_height) / 2, key_cols);
  for (int i = 0; i < entries; ++i) {
    script += fmt::format("{}NaN {} title {}", i ? ", " : "", d.styles.at(d.legend[i]),
                          quoted(d.legend[i]));
  }
  return script + "\nunset multiplot\n";
}

}  // namespace

std::expected<void, Error> write_plots(const std::vector<BenchRow>& rows, const fs::path& dir,
                                       const fs::path& paper_csv) {
  const PlotData data = plot_data(rows);
  const SpeedupData speedup = speedup_data(rows, paper_csv);
  for (auto [file, text] :
       {std::pair{"phases.dat", &data.phases}, std::pair{"speedup.dat", &speedup.dat},
        std::pair{"efficiency.dat", &data.efficiency}}) {
    if (auto done = write_text(dir / file, *text); !done) return done;
  }
  const std::string script =
      phase_figures(data) + efficiency_figure(rows, data) + speedup_figure(speedup);
  if (auto done = write_text(dir / "plots.gnuplot", script); !done) return done;
  const std::string command = fmt::format("cd '{}' && gnuplot plots.gnuplot 2> gnuplot.log",
                                          dir.string());
  if (std::system(command.c_str()) != 0) {
    return fail(fmt::format("gnuplot failed (see {}); install it with apt-get install gnuplot-nox",
                            (dir / "gnuplot.log").string()));
  }
  return {};
}

std::expected<void, Error> write_report(const std::vector<BenchRow>& rows, const fs::path& dir,
                                        const std::string& command, const std::string& nodes) {
  std::string md = "# taskdist bench\n\n";
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  utsname un{};
  ::uname(&un);
  md += fmt::format("- Date: {}\n- Command: `{}`\n", date, command);
  md += fmt::format("- Machine: {} ({}), CPU {}, {} cores online, memory {}\n", un.nodename,
                    un.machine, read_first("/proc/cpuinfo", "model name"),
                    ::sysconf(_SC_NPROCESSORS_ONLN), read_first("/proc/meminfo", "MemTotal"));
  md += fmt::format("- POV-Ray: {}\n", first_line_of("cd / && timeout 10 povray --version </dev/null 2>&1 | grep -m1 POV-Ray"));
  md += fmt::format("- Open MPI: {}\n", first_line_of("timeout 10 mpirun --version </dev/null 2>/dev/null"));
  md += "\n" + nodes + " Times are medians over the repeats, run interleaved. Speedup = median "
        "total on 1 node / median total on N nodes, for the same method and policy. Peak RSS: "
        "the master's (for the paper's method: `convert -append`), and the largest of any "
        "povray (or convert) on a node. Cost profiles: taskdist's dynamic policy cuts bands by "
        "the cost of rows that the study's earlier runs of the scene measured (kept in "
        "profiles/ beside this report; nothing from outside the study), so its first runs of a "
        "scene start without one; the static policy and the paper's method cut equal bands.\n\n";
  md += "| method | policy | size | nodes | total (s) | seq1 | parallel | seq2 | seq2 % | "
        "speedup | efficiency | master peak RSS (MiB) | node peak RSS (MiB) | status |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    md += fmt::format("| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.1f} | {:.2f} "
                      "| {:.2f} | {:.1f} | {:.1f} | {} |\n",
                      r.method, r.policy, size_label(r), r.nodes, r.total.median, r.seq1.median,
                      r.parallel.median, r.seq2.median, r.seq2_pct, r.speedup, r.efficiency,
                      static_cast<double>(r.master_peak_rss_bytes) / (1 << 20),
                      static_cast<double>(r.worker_peak_rss_bytes) / (1 << 20), r.status);
  }
  md += "\n![Runtime by phase](fig7_phases.png)\n\n![Speedup](fig9_speedup.png)\n\n"
        "![Phase shares](fig10_shares.png)\n\n![Efficiency](efficiency.png)\n\n"
        "All numbers: [results.csv](results.csv).\n";
  return write_text(dir / "report.md", md);
}

}  // namespace taskdist

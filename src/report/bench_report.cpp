#include "report/bench_report.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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

std::string series(const BenchRow& r) {
  return r.method == "paper" ? std::string("paper method") : "taskdist " + r.policy;
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

std::expected<void, Error> write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return fail(fmt::format("cannot write '{}'", path.string()));
  return {};
}

}  // namespace

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

// The figures' data: phases of the main series, then one block per series and size (speedup)
// and per series and node count (efficiency), in gnuplot's "index" blocks.
struct PlotData {
  std::string main_series;
  std::string phases = "# label seq1 parallel seq2 seq1_pct parallel_pct seq2_pct\n";
  std::string speedup, efficiency;
  std::vector<std::string> speedup_titles, efficiency_titles;
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
    std::set<std::string> sizes;
    std::set<int> counts;
    for (const auto& r : rows) {
      if (series(r) != name) continue;
      sizes.insert(size_label(r));
      counts.insert(r.nodes);
    }
    for (const auto& size : sizes) {
      d.speedup_titles.push_back(fmt::format("{} {}", name, size));
      for (const auto& r : rows) {
        if (series(r) == name && size_label(r) == size && r.speedup > 0) {
          d.speedup += fmt::format("{},{:.4f}\n", r.nodes, r.speedup);
        }
      }
      d.speedup += "\n\n";
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
set title 'Runtime by phase, {} (medians; cf. the paper, Fig. 7)'
set ylabel 'seconds'
plot 'phases.dat' using 2:xtic(1) title 'first sequential', '' using 3 title 'parallel', '' using 4 title 'second sequential'
set output 'fig10_shares.png'
set title 'Share of each phase, {} (cf. the paper, Fig. 10)'
set ylabel 'percent of the total'
set yrange [0:100]
plot 'phases.dat' using 5:xtic(1) title 'first sequential', '' using 6 title 'parallel', '' using 7 title 'second sequential'
set yrange [*:*]
)",
                        d.main_series, d.main_series);
  return script;
}

// Fig. 9 of the paper: speedup against nodes, with the paper's own speedups where it has them.
std::string speedup_figure(const std::vector<BenchRow>& rows, const PlotData& d,
                           const fs::path& paper_csv) {
  std::string script = R"(set style data linespoints
set xtics norotate
set output 'fig9_speedup.png'
set title 'Speedup against one node (cf. the paper, Fig. 9)'
set xlabel 'nodes'
set ylabel 'speedup'
set xrange [1:*]
)";
  std::string plots = "x title 'ideal' with lines dashtype 2 lc rgb 'black'";
  for (size_t i = 0; i < d.speedup_titles.size(); ++i) {
    plots += fmt::format(", 'speedup.dat' index {} using 1:2 title '{}'", i, d.speedup_titles[i]);
  }
  if (fs::exists(paper_csv)) {
    // The paper's own speedups (Raspberry Pi cluster, Table 2), dashed, for the same sizes.
    std::set<std::string> sizes;
    for (const auto& r : rows) sizes.insert(size_label(r));
    for (const auto& size : sizes) {
      const auto x = size.find('x');
      plots += fmt::format(
          ", '{}' using (($2=={} && $3=={}) ? $1 : 1/0):8 every ::1 with points pointsize 1.5 "
          "title 'paper (Pi cluster, Table 2) {}'",
          fs::absolute(paper_csv).string(), size.substr(0, x), size.substr(x + 1), size);
    }
  }
  return script + "set datafile separator ','\nplot " + plots + "\n";
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
  script += R"(set output 'efficiency.png'
set title 'Efficiency against problem size'
set xlabel 'pixels'
set ylabel 'efficiency (speedup / nodes)'
set logscale x 10
set yrange [0:1.2]
plot )";
  for (size_t i = 0; i < d.efficiency_titles.size(); ++i) {
    script += fmt::format("{}'efficiency.dat' index {} using 1:2 title '{}'", i ? ", " : "", i,
                          d.efficiency_titles[i]);
  }
  return script + "\n";
}

}  // namespace

std::expected<void, Error> write_plots(const std::vector<BenchRow>& rows, const fs::path& dir,
                                       const fs::path& paper_csv) {
  const PlotData data = plot_data(rows);
  for (auto [file, text] :
       {std::pair{"phases.dat", &data.phases}, std::pair{"speedup.dat", &data.speedup},
        std::pair{"efficiency.dat", &data.efficiency}}) {
    if (auto done = write_text(dir / file, *text); !done) return done;
  }
  const std::string script = phase_figures(data) + speedup_figure(rows, data, paper_csv) +
                             efficiency_figure(rows, data);
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

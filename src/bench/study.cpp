#include "bench/study.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/render_job.h"
#include "core/job.h"
#include "core/planner.h"
#include "exec/interrupt.h"
#include "exec/temp_dir.h"
#include "report/bench_report.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;


}  // namespace

CommandChain paper_band_chain(const std::string& povray, const std::string& convert,
                              const fs::path& scene, int width, int height, RowRange band,
                              const fs::path& full, const fs::path& part) {
  return {{povray, "+I" + scene.string(), "+L" + scene.parent_path().string(),
           fmt::format("+W{}", width), fmt::format("+H{}", height),
           fmt::format("+SR{}", band.begin + 1),
           band.end == 1 ? std::string("+ER1.5") : fmt::format("+ER{}", band.end), "+WT1", "-D",
           "+FN", "+O" + full.string()},
          // -extract is a read setting: it must come before the file it crops.
          {convert, "-extract", fmt::format("{}x{}+0+{}", width, band.count(), band.begin),
           full.string(), part.string()}};
}

ChainsResult append_parts(const BenchRun& run, const std::vector<std::string>& parts) {
  const fs::path out = run.dir / "paper.png";
  std::vector<std::string> append = {run.convert};
  append.insert(append.end(), parts.begin(), parts.end());
  append.insert(append.end(), {"-append", out.string()});
  ChainsResult r = run_chains({{append}}, run.dir);
  if (r.error.empty()) {
    // The paper's method is measured only when it makes the image: check its size (IHDR).
    std::ifstream in(out, std::ios::binary);
    unsigned char h[24] = {};
    in.read(reinterpret_cast<char*>(h), sizeof h);
    auto be32 = [&](int at) {
      return static_cast<int>((uint32_t{h[at]} << 24) | (uint32_t{h[at + 1]} << 16) |
                              (uint32_t{h[at + 2]} << 8) | h[at + 3]);
    };
    if (!in || be32(16) != run.width || be32(20) != run.height) {
      r.error = fmt::format("the appended image is {}x{}, not {}x{}", be32(16), be32(20),
                            run.width, run.height);
    }
  }
  return r;
}

bool read_render_report(const fs::path& report, BenchSample& s) {
  try {
    std::ifstream in(report);
    const auto j = nlohmann::json::parse(in);
    s.seq1_s = j.at("seq1_s").get<double>();
    s.parallel_s = j.at("parallel_s").get<double>();
    s.seq2_s = j.at("seq2_s").get<double>();
    s.total_s = j.at("total_s").get<double>();
    s.master_peak_rss_bytes = j.at("master_peak_rss_bytes").get<uint64_t>();
    for (const auto& t : j.at("tasks")) {
      s.worker_peak_rss_bytes =
          std::max(s.worker_peak_rss_bytes, t.value("povray_peak_rss_bytes", uint64_t{0}));
    }
    s.ok = true;
  } catch (const std::exception& e) {
    s.error = std::string("bad report: ") + e.what();
  }
  return s.ok;
}

BenchSample sample_for(const BenchRun& run) {
  BenchSample s;
  s.method = run.method;
  s.policy = run.method == "paper" ? "-" : run.policy;
  s.width = run.width;
  s.height = run.height;
  s.nodes = run.nodes;
  return s;
}

namespace {

// The paper's method on `nodes` local processes: one equal band each, povray writes its
// full-height PNG, `convert -extract` keeps the band, and the master appends the bands.
BenchSample run_paper_locally(const BenchRun& run) {
  BenchSample s = sample_for(run);
  const auto start = Clock::now();
  const auto bands = static_plan(run.height, run.nodes, 1);
  std::vector<CommandChain> chains;
  std::vector<std::string> parts;
  for (size_t i = 0; i < bands.size(); ++i) {
    const auto part = run.dir / fmt::format("part{}.png", i);
    parts.push_back(part.string());
    chains.push_back(paper_band_chain(run.povray, run.convert, run.scene, run.width, run.height,
                                      bands[i], run.dir / fmt::format("full{}.png", i), part));
  }
  s.seq1_s = seconds_since(start);
  auto par = run_chains(chains, run.dir);
  if (!par.error.empty()) {
    s.error = par.error;
    return s;
  }
  s.parallel_s = par.seconds;
  s.worker_peak_rss_bytes = par.max_rss_bytes;
  const ChainsResult tail = append_parts(run, parts);
  if (!tail.error.empty()) {
    s.error = "convert -append: " + tail.error;
    return s;
  }
  s.seq2_s = tail.seconds;
  s.total_s = seconds_since(start);
  s.master_peak_rss_bytes = tail.max_rss_bytes;
  s.ok = true;
  return s;
}

// taskdist itself, as a user runs it, with its own report for the phases.
BenchSample run_taskdist_locally(const BenchRun& run) {
  BenchSample s = sample_for(run);
  const auto report = run.dir / "run.json";
  std::vector<std::string> render{
      fs::read_symlink("/proc/self/exe").string(), "render", run.scene.string(),
      fmt::format("+W{}", run.width), fmt::format("+H{}", run.height), "-o",
      (run.dir / "taskdist.png").string(), "-j", std::to_string(run.nodes), "--policy",
      run.policy, "--quiet", "--report", report.string(), "--povray", run.povray,
      "--profile-dir", run.profile_dir.string()};
  if (!run.quick_start) render.push_back("--no-quick-start");
  auto r = run_chains({{render}}, run.dir);
  if (!r.error.empty()) {
    s.error = r.error;
    return s;
  }
  read_render_report(report, s);
  return s;
}

class LocalBenchEngine : public BenchEngine {
 public:
  int max_nodes() const override { return 0; }
  std::string describe() const override {
    return "Nodes are local slots (one povray process each) on this machine.";
  }
  BenchSample run(const BenchRun& run) override {
    return run.method == "paper" ? run_paper_locally(run) : run_taskdist_locally(run);
  }
};

}  // namespace

std::unique_ptr<BenchEngine> make_local_bench_engine() {
  return std::make_unique<LocalBenchEngine>();
}

fs::path study_scene(const std::string& given) {
  return given.empty() ? fs::path("/usr/share/doc/povray/examples/objects/blob.pov")
                       : fs::absolute(given);
}

std::optional<std::pair<int, int>> parse_size(std::string_view text) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in{std::string(text)};
  if (!(in >> w >> x >> h) || x != 'x' || w < 1 || h < 1 || w > 65535 || h > 65535 ||
      in.peek() != std::char_traits<char>::eof()) {
    return std::nullopt;
  }
  return std::pair{w, h};
}

bool parse_sizes(const std::vector<std::string>& texts, std::string_view command,
                 std::vector<std::pair<int, int>>& sizes) {
  for (const auto& text : texts) {
    const auto wh = parse_size(text);
    if (!wh) {
      fmt::print(stderr, "{}: --sizes: '{}' is not WIDTHxHEIGHT (e.g. 800x600)\n", command, text);
      return false;
    }
    sizes.push_back(*wh);
  }
  return true;
}

namespace {

// Says on stderr (false) if a node count is more than `engine` has.
bool nodes_fit(const BenchRequest& req, const BenchEngine& engine) {
  if (engine.max_nodes() == 0) return true;
  for (int n : req.nodes) {
    if (n > engine.max_nodes()) {
      fmt::print(stderr,
                 "taskdist bench: --nodes {}: there are only {} worker ranks (start "
                 "mpirun with -np {} or more)\n",
                 n, engine.max_nodes(), n + 1);
      return false;
    }
  }
  return true;
}

// Child processes start from a path: resolves the tools once (convert only for the paper's
// method), and says which one is missing (false).
bool resolve_tools(BenchRequest& req) {
  for (auto [tool, what] : {std::pair{&req.povray, "povray (install povray)"},
                            std::pair{&req.convert, "convert (install imagemagick)"}}) {
    const bool needed = tool == &req.povray ||
                        std::ranges::find(req.methods, "paper") != req.methods.end();
    if (!needed) continue;
    auto found = find_executable(*tool);
    if (!found) {
      fmt::print(stderr, "taskdist bench: cannot find {}: '{}'\n", what, *tool);
      return false;
    }
    *tool = found->string();
  }
  return true;
}

// The study's scene, absolute; nullopt after saying on stderr that it is missing.
std::optional<fs::path> find_scene(const BenchRequest& req) {
  const fs::path scene = study_scene(req.scene);
  if (!fs::exists(scene)) {
    fmt::print(stderr, "taskdist bench: scene '{}' not found{}\n", scene.string(),
               req.scene.empty() ? " (install povray-examples, or give --scene)" : "");
    return std::nullopt;
  }
  return scene;
}

bool create_out_dir(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    fmt::print(stderr, "taskdist bench: cannot create '{}': {}\n", out.string(), ec.message());
    return false;
  }
  return true;
}

// One run of every size x node count x method (x policy, for ours) that `req` asks for, each
// like `common` otherwise (its scratch folder still to be set).
std::vector<BenchRun> combinations(const BenchRequest& req, const BenchRun& common) {
  std::vector<BenchRun> runs;
  auto add = [&](const std::string& method, const std::string& policy, int w, int h, int n) {
    BenchRun run = common;
    run.method = method;
    run.policy = policy;
    run.width = w;
    run.height = h;
    run.nodes = n;
    runs.push_back(std::move(run));
  };
  for (const auto& [w, h] : req.sizes) {
    for (int n : req.nodes) {
      for (const auto& m : req.methods) {
        if (m == "paper") {
          add(m, "-", w, h, n);
          continue;
        }
        for (const auto& p : req.policies) add(m, p, w, h, n);
      }
    }
  }
  return runs;
}

// Every run once per round, `repeat` rounds: noise hits all combinations alike. Each run gets
// a scratch folder in `work`, removed after it. nullopt if interrupted.
std::optional<std::vector<BenchSample>> run_rounds(const std::vector<BenchRun>& runs, int repeat,
                                                   const fs::path& work, BenchEngine& engine) {
  std::vector<BenchSample> samples;
  const int total_runs = static_cast<int>(runs.size()) * repeat;
  const auto start = Clock::now();
  int done = 0;
  for (int round = 1; round <= repeat; ++round) {
    for (BenchRun run : runs) {
      if (InterruptSignal::received() != 0) return std::nullopt;
      run.dir = work / fmt::format("run{}", done);
      fs::create_directories(run.dir);
      BenchSample s = engine.run(run);
      std::error_code ec;
      fs::remove_all(run.dir, ec);
      ++done;
      const double elapsed = seconds_since(start);
      fmt::print(stderr,
                 "taskdist bench: {}/{} round {}/{}: {} {} {}x{} on {} node{}: {}  "
                 "(elapsed {:.0f} s, ETA {:.0f} s)\n",
                 done, total_runs, round, repeat, run.method, run.policy, run.width, run.height,
                 run.nodes, run.nodes == 1 ? "" : "s",
                 s.ok ? fmt::format("{:.2f} s", s.total_s) : "FAILED: " + s.error, elapsed,
                 elapsed / done * (total_runs - done));
      samples.push_back(std::move(s));
    }
  }
  return samples;
}

// results.csv, the figures and report.md in `req.out`. Returns the exit code.
int write_results(const std::vector<BenchSample>& samples, const BenchRequest& req,
                  const BenchEngine& engine) {
  const auto rows = aggregate(samples);
  const fs::path paper_csv = fs::path(TASKDIST_SOURCE_DIR) / "bench/anchors/paper_table2.csv";
  for (const auto& written : {write_csv(rows, req.out / "results.csv"),
                              write_plots(rows, req.out, paper_csv),
                              write_report(rows, req.out, req.command_line, engine.describe())}) {
    if (!written) {
      fmt::print(stderr, "taskdist bench: {}\n", written.error());
      return kExitRenderFailed;
    }
  }
  fmt::print("taskdist bench: wrote {}/results.csv, report.md and 4 figures\n", req.out.string());
  return kExitOk;
}

}  // namespace

int run_bench(const BenchRequest& request, BenchEngine& engine) {
  InterruptSignal::install();
  BenchRequest req = request;
  if (!nodes_fit(req, engine) || !resolve_tools(req)) return kExitUsage;
  const auto scene = find_scene(req);
  if (!scene || !create_out_dir(req.out)) return kExitUsage;
  auto work = TempDir::create_scratch("taskdist-bench-");
  if (!work) {
    fmt::print(stderr, "taskdist bench: {}\n", work.error());
    return kExitRenderFailed;
  }
  BenchRun common;
  common.scene = *scene;
  common.povray = req.povray;
  common.povray_given = request.povray != "povray";  // as given, not as resolved
  common.convert = req.convert;
  common.quick_start = req.quick_start;
  common.profile_dir = req.out / "profiles";
  const auto samples = run_rounds(combinations(req, common), req.repeat, work->path(), engine);
  if (!samples) {
    fmt::print(stderr, "taskdist bench: interrupted; nothing written\n");
    return kExitInterrupted;
  }
  return write_results(*samples, req, engine);
}

}  // namespace taskdist

// shmex-bench-book: registers the C benchmark bodies of book_bench.c with
// Google Benchmark. Every case uses manual timing: one benchmark iteration
// is one batch, timed by the C code around the book calls only. Results are
// reported per message (ns/op counter, items_per_second); the latency cases
// time each message alone and report percentiles from a full histogram.
//
//   shmex-bench-book [google benchmark flags]   (docs/BENCHMARKS.md)
//
// Default --benchmark_min_time is 0.3 s per case; $SHMEX_BENCH_CPU picks
// the CPU to pin to (default: the highest one allowed).

#include <benchmark/benchmark.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "book_bench.h"

namespace {

struct Row {
	double ns_per_op = 0, msgs_per_s = 0, trades_per_op = 0;
	uint64_t ops = 0;
	bool lat = false;
	double mean = 0, p50 = 0, p99 = 0, p999 = 0, max = 0;
};

std::map<std::string, Row> rows; // key "case/N"; the last run of a case wins

// One fixture alive at a time: benchmarks of the same case and N reuse it
// (Google Benchmark calls a benchmark function several times).
struct FixtureDeleter {
	void operator()(bb_fixture *f) const { bb_fixture_destroy(f); }
};
std::unique_ptr<bb_fixture, FixtureDeleter> fixture;
int fixture_case = -1;
uint32_t fixture_n = 0;

bb_fixture *get_fixture(bb_case c, uint32_t n)
{
	if (fixture && fixture_case == c && fixture_n == n)
		return fixture.get();
	fixture.reset();
	fixture.reset(bb_fixture_create(c, n));
	fixture_case = c;
	fixture_n = n;
	return fixture.get();
}

std::string key(bb_case c, uint32_t n)
{
	return std::string(bb_case_name(c)) + "/" + std::to_string(n);
}

void bm_throughput(benchmark::State &st, bb_case c, uint32_t n)
{
	bb_fixture *f = get_fixture(c, n);
	if (!f) {
		st.SkipWithError("fixture setup failed");
		return;
	}
	double ns = 0;
	uint64_t ops = 0, trades = 0;
	for (auto _ : st) {
		bb_batch_result r;
		if (bb_run_batch(f, &r) != 0) {
			st.SkipWithError(bb_fixture_error(f));
			break;
		}
		st.SetIterationTime(r.ns * 1e-9);
		ns += r.ns;
		ops += r.ops;
		trades += r.trades;
	}
	if (bb_fixture_check(f) != 0) {
		st.SkipWithError(bb_fixture_error(f));
		return;
	}
	if (ops == 0)
		return;
	st.SetItemsProcessed((int64_t)ops);
	Row &row = rows[key(c, n)];
	row.ns_per_op = ns / (double)ops;
	row.msgs_per_s = (double)ops / (ns * 1e-9);
	row.trades_per_op = (double)trades / (double)ops;
	row.ops = ops;
	st.counters["ns/op"] = row.ns_per_op;
	if (trades)
		st.counters["trades/op"] = row.trades_per_op;
	if (c == BB_FILL || c == BB_SWEEP)
		st.counters["ns/trade"] = ns / (double)trades;
	struct bb_fixture_info info;
	bb_fixture_info(f, &info);
	st.counters["batch"] = info.batch;
	st.counters["levels"] = info.levels[0] + info.levels[1];
	st.counters["orders"] = info.orders;
	if (c == BB_MIXED || c == BB_MIXED_PF) {
		st.counters["rebuilds"] = (double)info.rebuilds;
		double total = (double)(info.mix[0] + info.mix[1] + info.mix[2]);
		st.counters["add%"] = 100.0 * (double)info.mix[0] / total;
		st.counters["cxl%"] = 100.0 * (double)info.mix[1] / total;
		st.counters["ioc%"] = 100.0 * (double)info.mix[2] / total;
	}
}

void bm_latency(benchmark::State &st, bb_case c, uint32_t n, uint64_t samples)
{
	bb_fixture *f = get_fixture(c, n);
	if (!f) {
		st.SkipWithError("fixture setup failed");
		return;
	}
	auto h = std::make_unique<bb_hist>();
	for (auto _ : st) {
		double total = 0;
		bb_hist_reset(h.get());
		// Warm-up: a tenth of the samples, not recorded.
		if (bb_run_latency(f, samples / 10, h.get(), &total) != 0) {
			st.SkipWithError(bb_fixture_error(f));
			break;
		}
		bb_hist_reset(h.get());
		if (bb_run_latency(f, samples, h.get(), &total) != 0) {
			st.SkipWithError(bb_fixture_error(f));
			break;
		}
		st.SetIterationTime(total * 1e-9);
	}
	if (bb_fixture_check(f) != 0) {
		st.SkipWithError(bb_fixture_error(f));
		return;
	}
	if (h->count == 0)
		return;
	Row &row = rows[key(c, n)];
	row.lat = true;
	row.mean = h->sum / (double)h->count;
	row.p50 = (double)bb_hist_quantile(h.get(), 0.50);
	row.p99 = (double)bb_hist_quantile(h.get(), 0.99);
	row.p999 = (double)bb_hist_quantile(h.get(), 0.999);
	row.max = (double)h->max;
	st.SetItemsProcessed((int64_t)h->count);
	st.counters["samples"] = (double)h->count;
	st.counters["mean_ns"] = row.mean;
	st.counters["p50_ns"] = row.p50;
	st.counters["p99_ns"] = row.p99;
	st.counters["p99.9_ns"] = row.p999;
	st.counters["max_ns"] = row.max;
}

struct MemRow {
	bb_mem_report r;
	bool ok = false;
};
std::map<std::string, MemRow> mem_rows;

void bm_memory(benchmark::State &st, uint32_t n, uint32_t max_levels)
{
	std::string name = std::to_string(n);
	if (max_levels)
		name += "/max_levels=" + std::to_string(max_levels);
	MemRow &m = mem_rows[name];
	for (auto _ : st) {
		if (bb_memory(n, max_levels, &m.r) != 0) {
			st.SkipWithError("bb_memory failed");
			return;
		}
		st.SetIterationTime(1e-6);
	}
	m.ok = true;
	double dn = (double)n;
	st.counters["memsize_B/order"] = (double)m.r.memsize / dn;
	st.counters["resident_B/order"] = (double)m.r.resident_total / dn;
	st.counters["rss_B/order"] = (double)m.r.rss_growth / dn;
	st.counters["levels"] = m.r.levels;
}

void print_header(int argc, char **argv, int cpu, const char *min_time)
{
	char model[256];
	bb_cpu_model(model, sizeof model);
	struct utsname u;
	std::memset(&u, 0, sizeof u);
	uname(&u);
	char date[64] = "";
	std::time_t now = std::time(nullptr);
	std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
	std::string cmd;
	for (int i = 0; i < argc; i++)
		cmd += (i ? " " : "") + std::string(argv[i]);
	std::printf("shmex-bench-book: order book benchmarks (docs/BENCHMARKS.md)\n");
	std::printf("command : %s\n", cmd.c_str());
	std::printf("date    : %s\n", date);
	std::printf("machine : %s, %ld online CPUs, %s %s %s\n", model, sysconf(_SC_NPROCESSORS_ONLN),
		    u.sysname, u.release, u.machine);
	if (cpu >= 0)
		std::printf("pinned  : CPU %d\n", cpu);
	else
		std::printf("pinned  : no (sched_setaffinity failed)\n");
	std::printf("timer   : %s, %.3f ticks/ns, empty timer pair %.1f ns (subtracted)\n",
#if defined(__x86_64__)
		    "TSC (lfence;rdtsc / rdtscp;lfence)",
#else
		    "CLOCK_MONOTONIC",
#endif
		    bb_ticks_per_ns(), bb_ticks_to_ns(bb_timer_overhead_ticks()));
	std::printf("runs    : %s per case (--benchmark_min_time); Google Benchmark's Time column"
		    " is one batch, see the ns/op counter and the summary at the end\n",
		    min_time);
	std::printf("book    : N resting orders, qty 1..100, over 2 x L levels"
		    " (L = clamp(N/200, 50, 5000)) around mid 1000000; counting sink\n");
	for (int c = 0; c < BB_NCASES; c++)
		std::printf("  %-9s %s\n", bb_case_name((bb_case)c), bb_case_doc((bb_case)c));
	std::printf("\n");
	std::fflush(stdout);
}

const char *target_of(bb_case c)
{
	switch (c) {
	case BB_ADD:
	case BB_ADD_LEVEL:
	case BB_CANCEL:
		return "<= 40 ns median";
	case BB_FILL:
		return "<= 60 ns median";
	case BB_MIXED:
	case BB_MIXED_PF:
		return ">= 20 M msgs/s";
	default:
		return "-";
	}
}

void print_summary(const std::vector<uint32_t> &sizes)
{
	std::printf("\nsummary (ns per message; percentiles from the latency runs)\n");
	std::printf("%-10s %8s %9s %8s %8s %8s %9s %9s %11s  %s\n", "case", "N", "mean ns", "p50",
		    "p99", "p99.9", "max", "M msg/s", "trades/msg", "target");
	for (uint32_t n : sizes)
		for (int c = 0; c < BB_NCASES; c++) {
			auto it = rows.find(key((bb_case)c, n));
			if (it == rows.end())
				continue;
			const Row &r = it->second;
			char lat[4][32] = { "-", "-", "-", "-" };
			if (r.lat) {
				std::snprintf(lat[0], sizeof lat[0], "%.0f", r.p50);
				std::snprintf(lat[1], sizeof lat[1], "%.0f", r.p99);
				std::snprintf(lat[2], sizeof lat[2], "%.0f", r.p999);
				std::snprintf(lat[3], sizeof lat[3], "%.0f", r.max);
			}
			std::printf("%-10s %8u %9.1f %8s %8s %8s %9s %9.2f %11.2f  %s\n",
				    bb_case_name((bb_case)c), n, r.ns_per_op, lat[0], lat[1], lat[2],
				    lat[3], r.msgs_per_s / 1e6, r.trades_per_op, target_of((bb_case)c));
		}
	std::printf("\nmemory per resting order (max_orders = N; target <= 96 B)\n");
	for (auto &kv : mem_rows) {
		if (!kv.second.ok)
			continue;
		const bb_mem_report &m = kv.second.r;
		double dn = (double)m.n;
		std::printf("N=%s: %u orders on %u levels; shmex_book_memsize %.1f B/order; "
			    "resident (mincore) %.1f B/order; process RSS growth %.1f B/order "
			    "(create alone %.0f KiB)\n",
			    kv.first.c_str(), m.orders, m.levels, (double)m.memsize / dn,
			    (double)m.resident_total / dn, (double)m.rss_growth / dn,
			    (double)m.rss_empty / 1024.0);
		for (unsigned i = 0; i < m.nregions; i++)
			std::printf("    %-36s reserved %8.1f B/order  resident %7.2f B/order\n",
				    m.region[i].name, (double)m.region[i].reserved / dn,
				    (double)m.region[i].resident / dn);
	}
	std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
	// Default min time, unless given.
	std::vector<char *> args(argv, argv + argc);
	static char min_time[] = "--benchmark_min_time=0.3";
	bool has_min_time = false;
	std::string min_time_shown = "0.3 s";
	for (int i = 1; i < argc; i++)
		if (std::strncmp(argv[i], "--benchmark_min_time", 20) == 0) {
			has_min_time = true;
			const char *eq = std::strchr(argv[i], '=');
			min_time_shown = std::string(eq ? eq + 1 : "?") + " s";
		}
	if (!has_min_time)
		args.insert(args.begin() + 1, min_time);
	int nargs = (int)args.size();
	args.push_back(nullptr);

	int cpu = bb_pin_thread(-1);
	bb_timer_init();
	print_header(argc, argv, cpu, min_time_shown.c_str());

	const std::vector<uint32_t> sizes = { 1000, 1000000 };
	for (uint32_t n : sizes)
		benchmark::RegisterBenchmark(("memory/" + std::to_string(n)).c_str(), bm_memory, n, 0u)
			->Iterations(1)
			->UseManualTime();
	benchmark::RegisterBenchmark("memory/1000000/max_levels=65536", bm_memory, 1000000u, 65536u)
		->Iterations(1)
		->UseManualTime();
	for (uint32_t n : sizes)
		for (int ci = 0; ci < BB_NCASES; ci++) {
			bb_case c = (bb_case)ci;
			std::string name = std::string(bb_case_name(c)) + "/" + std::to_string(n);
			benchmark::RegisterBenchmark(("book/" + name).c_str(), bm_throughput, c, n)
				->UseManualTime()
				->Unit(benchmark::kMicrosecond);
			if (c != BB_SWEEP)
				benchmark::RegisterBenchmark(("latency/" + name).c_str(), bm_latency, c, n,
							     (uint64_t)1000000)
					->Iterations(1)
					->UseManualTime()
					->Unit(benchmark::kMillisecond);
		}

	benchmark::Initialize(&nargs, args.data());
	if (benchmark::ReportUnrecognizedArguments(nargs, args.data()))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	fixture.reset();
	print_summary(sizes);
	benchmark::Shutdown();
	return 0;
}

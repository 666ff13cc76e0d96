// The de-vig timing table per method: one Devig call on a 2-way market ({1.91, 2.0}, a
// spread or total) and on a 3-way market ({2.7, 2.3, 4.4}, a soccer 1X2). The methods with a
// solved parameter (power, Shin for n > 2, odds ratio) bisect to full double precision, so
// they cost tens of multiplicative de-vigs; this table shows how many.
//
//   build/release/truthbook_benchmarks --benchmark_filter=Devig
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "odds/devig.h"

namespace truthbook::odds {
namespace {

// state.range(0): the index of the method in kDevigMethods; state.range(1): the outcome count.
void BM_Devig(benchmark::State& state) {
  const DevigMethod method = kDevigMethods[static_cast<size_t>(state.range(0))];
  const std::vector<double> market =
      state.range(1) == 2 ? std::vector<double>{1.91, 2.0} : std::vector<double>{2.7, 2.3, 4.4};
  state.SetLabel(std::string(DevigMethodName(method)) + "/" + std::to_string(market.size()) +
                 "-way");
  if (Result<DevigResult> check = Devig(market, method); !check.ok()) {
    state.SkipWithError(check.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    Result<DevigResult> result = Devig(market, method);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Devig)
    ->ArgNames({"method", "outcomes"})
    ->ArgsProduct({benchmark::CreateDenseRange(0, kDevigMethods.size() - 1, 1), {2, 3}});

}  // namespace
}  // namespace truthbook::odds

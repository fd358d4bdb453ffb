// qtest_containers: std::unordered_map and std::sort on 100k elements.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

int main() {
  const int n = 100000;
  uint64_t x = 88172645463325252ull;
  auto next = [&x] {  // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  std::vector<uint64_t> v(n);
  std::unordered_map<uint64_t, uint64_t> counts;
  std::unordered_map<std::string, int> by_name;
  for (int i = 0; i < n; i++) {
    v[i] = next();
    counts[v[i] % 5000] += v[i] & 0xffff;
    if (i % 100 == 0) by_name["k" + std::to_string(v[i] % 1000)]++;
  }
  std::sort(v.begin(), v.end());
  bool sorted = std::is_sorted(v.begin(), v.end());
  uint64_t checksum = 0;
  for (int i = 0; i < n; i++) checksum = checksum * 1000003u + (v[i] >> 7);
  uint64_t map_sum = 0;
  for (const auto& [k, c] : counts) map_sum += k * 31 + c;
  std::map<std::string, int> ordered(by_name.begin(), by_name.end());
  std::vector<std::pair<int, std::string>> byc;
  for (const auto& [k, c] : ordered) byc.emplace_back(-c, k);
  std::stable_sort(byc.begin(), byc.end());
  printf("sorted=%d checksum=%llu\n", sorted, (unsigned long long)checksum);
  printf("buckets=%zu map_sum=%llu names=%zu\n", counts.size(), (unsigned long long)map_sum,
         ordered.size());
  printf("most frequent name %s (%d)\n", byc.front().second.c_str(), -byc.front().first);
  printf("min=%llu max=%llu\n", (unsigned long long)v.front(), (unsigned long long)v.back());
  return 0;
}

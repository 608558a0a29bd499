// expfmt-timer: how fast Prometheus' own Go library (github.com/prometheus/common/expfmt, from
// Debian's golang-github-prometheus-common-dev) parses a text exposition, for the side-by-side
// comparison in Benchmarks/metrics/compare.sh.
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/expfmt-timer .
package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/expfmt"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	runs := 10
	if len(os.Args) > 2 {
		runs, _ = strconv.Atoi(os.Args[2])
	}
	var times []float64
	samples := 0
	for i := 0; i < runs; i++ {
		var parser expfmt.TextParser
		start := time.Now()
		families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
		elapsed := time.Since(start).Seconds()
		if err != nil {
			panic(err)
		}
		samples = 0
		for _, f := range families {
			for _, m := range f.Metric {
				if m.Histogram != nil {
					samples += len(m.Histogram.Bucket) + 2
				} else {
					samples++
				}
			}
		}
		times = append(times, elapsed)
	}
	sort.Float64s(times)
	median := times[len(times)/2]
	fmt.Printf("go expfmt: %.1f MB/s, %.0f samples/s (median of %d: %.1f ms, %d samples)\n",
		float64(len(data))/median/1e6, float64(samples)/median, runs, median*1000, samples)
}

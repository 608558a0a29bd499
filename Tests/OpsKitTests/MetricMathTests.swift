import OpsKit
import Testing

/// Rates and quantiles against hand-computed cases.
@Suite struct MetricMathTests {
    @Test func histogramQuantileInterpolatesAsPrometheusDoes() {
        let buckets: [(le: Double, count: Double)] = [(0.4, 40), (0.1, 10), (.infinity, 40), (0.2, 30)]  // any order
        #expect(abs(MetricMath.histogramQuantile(0.5, buckets: buckets) - 0.15) < 1e-12)
        #expect(abs(MetricMath.histogramQuantile(0.9, buckets: buckets) - 0.32) < 1e-12)
        #expect(MetricMath.histogramQuantile(1.0, buckets: buckets) == 0.4)
        #expect(MetricMath.histogramQuantile(0, buckets: buckets) == 0)
        // The rank in the +Inf bucket: the highest finite bound.
        #expect(MetricMath.histogramQuantile(0.99, buckets: [(0.1, 10), (.infinity, 20)]) == 0.1)
        // A first bucket at or below zero answers its bound.
        #expect(MetricMath.histogramQuantile(0.2, buckets: [(-1, 5), (.infinity, 10)]) == -1)
        #expect(MetricMath.histogramQuantile(0.5, buckets: [(0.1, 0), (.infinity, 0)]).isNaN, "no observations")
        #expect(MetricMath.histogramQuantile(0.5, buckets: [(0.1, 3), (0.2, 5)]).isNaN, "no +Inf bucket")
        #expect(MetricMath.histogramQuantile(0.5, buckets: [(.infinity, 5)]).isNaN, "one bucket")
        #expect(MetricMath.histogramQuantile(-0.1, buckets: buckets) == -.infinity)
        #expect(MetricMath.histogramQuantile(1.1, buckets: buckets) == .infinity)
        // Counts that go down across buckets (a scrape racing an observation) are evened out.
        #expect(MetricMath.histogramQuantile(0.5, buckets: [(0.1, 10), (0.2, 8), (.infinity, 20)]) == 0.1)
    }

    @Test func countersSurviveResets() {
        let points: [(at: Double, value: Double)] = [(0, 10), (10, 30), (20, 5), (30, 15)]
        #expect(abs((MetricMath.rate(points) ?? 0) - 35.0 / 30) < 1e-12)
        #expect(MetricMath.rate([(0, 1)]) == nil)
        #expect(MetricMath.rate([(5, 1), (5, 2)]) == nil, "no time passed")
        let delta = MetricMath.delta([(0.1, 5), (.infinity, 10)], [(0.1, 7), (.infinity, 3)])
        #expect(delta.map(\.count) == [2, 3], "a reset counts the later value whole")
    }

    @Test func historyKeepsTheLastValuesInOrder() {
        var history = SeriesHistory(capacity: 3)
        for index in 1...5 { history.append(at: Double(index), Double(index * 10)) }
        #expect(history.values == [30, 40, 50])
        #expect(history.latest == 50)
        #expect(history.count == 3)
    }

    @Test func bucketsAddUpAcrossLabels() throws {
        let text = """
            # TYPE lat histogram
            lat_bucket{instance="a",le="0.1"} 1
            lat_bucket{instance="a",le="+Inf"} 2
            lat_bucket{instance="b",le="0.1"} 3
            lat_bucket{instance="b",le="+Inf"} 4
            lat_count 6

            """
        let family = try #require(try PrometheusTextParser.parse(text).first)
        let buckets = MetricMath.buckets(of: family).sorted { $0.le < $1.le }
        #expect(buckets.map(\.count) == [4, 6])
        #expect(MetricMath.buckets(of: family) { $0.label("instance") == "a" }.sorted { $0.le < $1.le }.map(\.count) == [1, 2])
    }
}

using System.Text.Json;

namespace OciRuntime.Cgroups.Tests;

public sealed class StatsTests : IDisposable
{
    private readonly FakeCgroupTree _v1 = FakeCgroupTree.V1();
    private readonly FakeCgroupTree _v2 = FakeCgroupTree.V2();

    public void Dispose()
    {
        _v1.Dispose();
        _v2.Dispose();
    }

    [Fact]
    public void V1_stats_have_runcs_field_names_and_values()
    {
        var m = CgroupManagerFactory.Create("c1", "/c1", _v1.Host);
        m.Create();
        _v1.Put("cpuacct/c1/cpuacct.usage", "3000\n");
        _v1.Put("cpuacct/c1/cpuacct.usage_percpu", "1000 2000 \n");
        _v1.Put("cpuacct/c1/cpuacct.stat", "user 5\nsystem 2\n");
        _v1.Put("cpu/c1/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 999\n");
        _v1.Put("memory/c1/memory.usage_in_bytes", "4096\n");
        _v1.Put("memory/c1/memory.max_usage_in_bytes", "8192\n");
        _v1.Put("memory/c1/memory.limit_in_bytes", "16777216\n");
        _v1.Put("memory/c1/memory.failcnt", "2\n");
        _v1.Put("memory/c1/memory.stat", "cache 100\nrss 200\n");
        _v1.Put("pids/c1/pids.current", "3\n");
        _v1.Put("pids/c1/pids.max", "max\n");
        _v1.Put("blkio/c1/blkio.throttle.io_serviced_recursive", "8:0 Read 4\n8:0 Write 5\nTotal 9\n");
        _v1.Put("blkio/c1/blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\nTotal 4096\n");
        _v1.Put("hugetlb/c1/hugetlb.2MB.usage_in_bytes", "2097152\n");
        _v1.Put("hugetlb/c1/hugetlb.2MB.failcnt", "1\n");
        var json = JsonDocument.Parse(JsonSerializer.Serialize(new ContainerEvent { Type = "stats", Id = "c1", Data = m.GetStats() }, StatsJsonContext.Default.ContainerEvent)).RootElement;
        json.GetProperty("type").GetString().Should().Be("stats");
        var data = json.GetProperty("data");
        data.GetProperty("cpu").GetProperty("usage").GetProperty("total").GetUInt64().Should().Be(3000);
        data.GetProperty("cpu").GetProperty("usage").GetProperty("percpu").EnumerateArray().Select(e => e.GetUInt64()).Should().Equal(1000UL, 2000UL);
        data.GetProperty("cpu").GetProperty("usage").GetProperty("user").GetUInt64().Should().Be(50_000_000);
        data.GetProperty("cpu").GetProperty("usage").GetProperty("kernel").GetUInt64().Should().Be(20_000_000);
        data.GetProperty("cpu").GetProperty("throttling").GetProperty("throttledPeriods").GetUInt64().Should().Be(3);
        data.GetProperty("cpuset").GetProperty("cpus").EnumerateArray().Select(e => e.GetUInt16()).Should().Equal((ushort)0, (ushort)1, (ushort)2, (ushort)3);
        data.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64().Should().Be(16777216);
        data.GetProperty("memory").GetProperty("usage").GetProperty("max").GetUInt64().Should().Be(8192);
        data.GetProperty("memory").GetProperty("usage").GetProperty("failcnt").GetUInt64().Should().Be(2);
        data.GetProperty("memory").GetProperty("cache").GetUInt64().Should().Be(100);
        data.GetProperty("memory").GetProperty("raw").GetProperty("rss").GetUInt64().Should().Be(200);
        data.GetProperty("pids").GetProperty("current").GetUInt64().Should().Be(3);
        data.GetProperty("pids").TryGetProperty("limit", out _).Should().BeFalse("an unlimited pids.max is omitted, as runc");
        data.GetProperty("blkio").GetProperty("ioServicedRecursive").GetArrayLength().Should().Be(2);
        data.GetProperty("blkio").GetProperty("ioServiceBytesRecursive")[0].GetProperty("op").GetString().Should().Be("Read");
        data.GetProperty("hugetlb").GetProperty("2MB").GetProperty("usage").GetUInt64().Should().Be(2097152);
        data.GetProperty("hugetlb").GetProperty("2MB").GetProperty("failcnt").GetUInt64().Should().Be(1);
        data.GetProperty("intel_rdt").ValueKind.Should().Be(JsonValueKind.Object);
        data.GetProperty("network_interfaces").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public void V2_stats_convert_microseconds_and_report_memory_plus_swap()
    {
        var m = CgroupManagerFactory.Create("c1", "/c1", _v2.Host);
        m.Create();
        _v2.Put("c1/cpu.stat", "usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 3\n");
        _v2.Put("c1/memory.current", "1000\n");
        _v2.Put("c1/memory.max", "max\n");
        _v2.Put("c1/memory.swap.current", "10\n");
        _v2.Put("c1/memory.swap.max", "max\n");
        _v2.Put("c1/memory.stat", "anon 600\nfile 400\n");
        _v2.Put("c1/pids.current", "2\n");
        _v2.Put("c1/pids.max", "20\n");
        _v2.Put("c1/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
        var s = m.GetStats();
        s.Cpu.Usage.Total.Should().Be(7000);
        s.Cpu.Usage.User.Should().Be(5000);
        s.Cpu.Usage.Kernel.Should().Be(2000);
        s.Cpu.Throttling.ThrottledTime.Should().Be(3000);
        s.Memory.Usage.Usage.Should().Be(1000);
        s.Memory.Usage.Limit.Should().Be(ulong.MaxValue);
        s.Memory.Swap.Usage.Should().Be(1010);
        s.Memory.Cache.Should().Be(400);
        s.Pids.Limit.Should().Be(20);
        s.Blkio.IoServiceBytesRecursive!.Select(e => (e.Op, e.Value)).Should().Equal(("Read", 4096UL), ("Write", 8192UL));
        s.Blkio.IoServicedRecursive!.Select(e => (e.Op, e.Value)).Should().Equal(("Read", 1UL), ("Write", 2UL));
    }

    [Fact]
    public void Oom_event_has_no_data()
    {
        JsonSerializer.Serialize(new ContainerEvent { Type = "oom", Id = "c1" }, StatsJsonContext.Default.ContainerEvent)
            .Should().Be("{\"type\":\"oom\",\"id\":\"c1\"}");
    }
}

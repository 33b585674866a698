using System.Diagnostics;
using System.Globalization;

namespace Mtcnn.Benchmarks;

/// <summary>The probes' timer: repeats an action for a while and prints its mean CPU time (less disturbed by other processes than wall time).</summary>
internal static class ProbeTimer
{
    public static void Time(string name, Action action, int milliseconds = 1000)
    {
        action();
        var cpu0 = Environment.CpuUsage.UserTime;
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.ElapsedMilliseconds < milliseconds)
        {
            action();
            n++;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-24} {(Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds / n,8:F3} ms CPU"));
    }
}

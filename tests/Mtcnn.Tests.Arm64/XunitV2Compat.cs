// The sources of tests/Mtcnn.Tests are written for xUnit 2 with Xunit.SkippableFact. This file maps the few names they
// use onto xUnit v3, which skips at run time natively, so that the same files compile here without a change.

using System.Runtime.CompilerServices;

namespace Xunit;

/// <summary>xUnit v3's <see cref="FactAttribute"/> already honours a skip decided inside the test.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableFactAttribute(
    [CallerFilePath] string? sourceFilePath = null,
    [CallerLineNumber] int sourceLineNumber = -1) : FactAttribute(sourceFilePath, sourceLineNumber);

/// <summary>xUnit v3's <see cref="TheoryAttribute"/> already honours a skip decided inside the test.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SkippableTheoryAttribute(
    [CallerFilePath] string? sourceFilePath = null,
    [CallerLineNumber] int sourceLineNumber = -1) : TheoryAttribute(sourceFilePath, sourceLineNumber);

/// <summary>Xunit.SkippableFact's <c>Skip</c> on top of <see cref="Assert.SkipWhen"/> and <see cref="Assert.SkipUnless"/>.</summary>
public static class Skip
{
    /// <summary>Skips the running test with <paramref name="reason"/> when <paramref name="condition"/> holds.</summary>
    public static void If(bool condition, string? reason = null) => Assert.SkipWhen(condition, reason ?? "skipped");

    /// <summary>Skips the running test with <paramref name="reason"/> unless <paramref name="condition"/> holds.</summary>
    public static void IfNot(bool condition, string? reason = null) => Assert.SkipUnless(condition, reason ?? "skipped");
}

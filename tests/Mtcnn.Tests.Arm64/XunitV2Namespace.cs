// xUnit 2 keeps ITestOutputHelper in Xunit.Abstractions; v3 moved it to Xunit. The namespace has to exist for the
// using directives of the v2 sources to compile.

namespace Xunit.Abstractions;

internal static class NamespaceOfXunit2;

using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Mtcnn.Web.Api;

namespace Mtcnn.Web.Tests;

/// <summary><see cref="WebDemoHost.WarmUp"/>: the first request's work done before the server starts.</summary>
public sealed class WarmUpTests
{
    [Fact]
    public async Task Warm_up_prepares_the_default_detector_that_the_first_request_then_uses()
    {
        await using var app = WebDemoHost.Create(null, b => b.WebHost.UseTestServer());
        var endpoints = app.Services.GetRequiredService<ImageEndpoints>();
        Assert.Equal(0, endpoints.CachedDetectors);

        var took = WebDemoHost.WarmUp(app);
        Assert.True(took > TimeSpan.Zero);

        // Only the default-query detector is kept; the all-zero-threshold pass uses a throwaway detector.
        Assert.Equal(1, endpoints.CachedDetectors);

        await app.StartAsync();
        using var client = app.GetTestClient();
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("X-Face-Count").Single());
        Assert.Equal(1, endpoints.CachedDetectors);
        await app.StopAsync();
    }

    [Fact]
    public void Warm_up_needs_an_application()
    {
        Assert.Throws<ArgumentNullException>(() => WebDemoHost.WarmUp(null!));
    }
}

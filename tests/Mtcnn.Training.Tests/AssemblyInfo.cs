// TorchSharp's random generator is process-wide: tests that seed it and then initialise networks must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

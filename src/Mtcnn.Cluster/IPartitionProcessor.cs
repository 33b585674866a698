namespace Mtcnn.Cluster;

/// <summary>
/// Turns a partition's inputs into records, one per input in the same order, on the silo that holds the lease. A bad
/// input is a record (an error record), never an exception; an exception means the partition could not be processed
/// at all on this silo (unusable settings, missing weights) and counts as a failed attempt.
/// </summary>
public interface IPartitionProcessor
{
    /// <summary>Processes the inputs.</summary>
    /// <param name="settings">The job's settings (<see cref="JobSpec.Settings"/>).</param>
    /// <param name="baseDirectory">The folder relative inputs are opened from.</param>
    /// <param name="inputs">The inputs as named in the job.</param>
    /// <param name="cancellationToken">Cancelled when the lease is lost or the silo stops.</param>
    /// <returns>One record per input.</returns>
    IReadOnlyList<string> Process(string settings, string baseDirectory, IReadOnlyList<string> inputs, CancellationToken cancellationToken);
}

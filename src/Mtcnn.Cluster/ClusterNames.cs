namespace Mtcnn.Cluster;

/// <summary>Names shared by silos and clients.</summary>
public static class ClusterNames
{
    /// <summary>The grain storage provider holding jobs, partitions and the registry.</summary>
    public const string Storage = "mtcnn";

    /// <summary>The default cluster id (<c>--cluster-id</c>).</summary>
    public const string DefaultClusterId = "mtcnn";

    /// <summary>The key of a partition grain.</summary>
    public static string PartitionKey(string job, int index) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{job}/{index}");
}

namespace Mlflow.Client;

/// <summary>The server's limits, which this SDK enforces on the client (MLflow 2.x server defaults).</summary>
public static class MlflowLimits
{
    /// <summary>Longest metric, param or tag key, in Unicode code points.</summary>
    public const int MaxKeyLength = 250;
    /// <summary>Longest param value, in code points (MLflow 2.8+).</summary>
    public const int MaxParamValueLength = 6000;
    /// <summary>Longest run tag value every MLflow 1.2+ server accepts, in code points (2.17+ servers accept 8000).</summary>
    public const int MaxTagValueLength = 5000;
    /// <summary>Longest experiment tag value, in code points.</summary>
    public const int MaxExperimentTagValueLength = 5000;
    /// <summary>Longest experiment name, in code points.</summary>
    public const int MaxExperimentNameLength = 500;
    /// <summary>Metrics in one log-batch request.</summary>
    public const int MaxMetricsPerBatch = 1000;
    /// <summary>Params in one log-batch request.</summary>
    public const int MaxParamsPerBatch = 100;
    /// <summary>Tags in one log-batch request.</summary>
    public const int MaxTagsPerBatch = 100;
    /// <summary>Metrics, params and tags together in one log-batch request.</summary>
    public const int MaxEntitiesPerBatch = 1000;
}

using System.Text.Json.Serialization;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

/// <summary>Status of an MLflow run (MLflow's <c>RunStatus</c>).</summary>
[JsonConverter(typeof(UpperSnakeEnumConverter<RunStatus>))]
public enum RunStatus
{
    /// <summary>The run is in progress.</summary>
    Running = 1,
    /// <summary>The run is scheduled (never used by the open-source server).</summary>
    Scheduled = 2,
    /// <summary>The run completed.</summary>
    Finished = 3,
    /// <summary>The run failed.</summary>
    Failed = 4,
    /// <summary>The run was cancelled.</summary>
    Killed = 5,
}

/// <summary>Which entities a search returns, by lifecycle stage (MLflow's <c>ViewType</c>).</summary>
[JsonConverter(typeof(UpperSnakeEnumConverter<ViewType>))]
public enum ViewType
{
    /// <summary>Only active entities (the server's default).</summary>
    ActiveOnly = 1,
    /// <summary>Only deleted entities.</summary>
    DeletedOnly = 2,
    /// <summary>Active and deleted entities.</summary>
    All = 3,
}

/// <summary>Lifecycle stage of an experiment or run: deletion is soft and orthogonal to the run status.</summary>
[JsonConverter(typeof(LowerSnakeEnumConverter<LifecycleStage>))]
public enum LifecycleStage
{
    /// <summary>The entity is live.</summary>
    Active = 0,
    /// <summary>The entity was soft-deleted and can be restored.</summary>
    Deleted = 1,
}

/// <summary>Registration status of a model version.</summary>
[JsonConverter(typeof(UpperSnakeEnumConverter<ModelVersionStatus>))]
public enum ModelVersionStatus
{
    /// <summary>The version is being registered.</summary>
    PendingRegistration = 1,
    /// <summary>Registration failed.</summary>
    FailedRegistration = 2,
    /// <summary>The version is ready.</summary>
    Ready = 3,
}

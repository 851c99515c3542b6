namespace Mlflow.Client.Comparison;

/// <summary>
/// MERGE SEAM: the registry operations the alias gate needs. <see cref="ServerModelAliasRegistry"/> implements them over
/// a tracking server; a local-store registry (built on the <c>registry</c> branch) implements this interface at merge and
/// <see cref="MlflowTracker.CompareWithAliasAsync"/> picks it for a tracker on a local store.
/// </summary>
internal interface IModelAliasRegistry
{
    /// <summary>The version the alias points at, or <see langword="null"/> when the model or the alias does not exist.</summary>
    Task<ModelVersion?> GetVersionByAliasAsync(string modelName, string alias, CancellationToken cancellationToken);

    /// <summary>Points the alias at a version.</summary>
    Task SetAliasAsync(string modelName, string alias, string version, CancellationToken cancellationToken);
}

/// <summary>The alias operations of a tracking server's model registry.</summary>
internal sealed class ServerModelAliasRegistry(MlflowClient client) : IModelAliasRegistry
{
    public async Task<ModelVersion?> GetVersionByAliasAsync(string modelName, string alias, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetModelVersionByAliasAsync(modelName, alias, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
        {
            return null;
        }
    }

    public Task SetAliasAsync(string modelName, string alias, string version, CancellationToken cancellationToken)
        => client.SetRegisteredModelAliasAsync(modelName, alias, version, cancellationToken);
}

/// <summary>
/// The alias operations over a tracker's <see cref="MlflowModelRegistry"/> (used for a local store's file registry):
/// a missing model or alias is read from the model's alias list, so no error text is matched.
/// </summary>
internal sealed class TrackerModelAliasRegistry(MlflowModelRegistry registry) : IModelAliasRegistry
{
    public async Task<ModelVersion?> GetVersionByAliasAsync(string modelName, string alias, CancellationToken cancellationToken)
    {
        RegisteredModel model;
        try
        {
            model = await registry.GetRegisteredModelAsync(modelName, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
        {
            return null;
        }

        var entry = model.Aliases.FirstOrDefault(a => a.Alias == alias);
        return entry is null ? null : await registry.GetModelVersionAsync(modelName, entry.Version, cancellationToken).ConfigureAwait(false);
    }

    public Task SetAliasAsync(string modelName, string alias, string version, CancellationToken cancellationToken)
        => registry.SetAliasAsync(modelName, alias, version, cancellationToken);
}

/// <summary>The gate against the run behind a registered model's alias.</summary>
internal static class AliasGate
{
    public static async Task<GateResult> CompareAsync(EvaluationGate gate, IModelAliasRegistry registry, Func<string, CancellationToken, Task<Run>> getRun, string candidateRunId, string modelName, string alias, string? candidateVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentException.ThrowIfNullOrEmpty(candidateRunId);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentException.ThrowIfNullOrEmpty(alias);
        var candidate = await getRun(candidateRunId, cancellationToken).ConfigureAwait(false);
        var version = await registry.GetVersionByAliasAsync(modelName, alias, cancellationToken).ConfigureAwait(false);
        GateResult result;
        if (version is null)
        {
            var values = RunTable.LatestMetrics(candidate);
            result = new GateResult(gate.Criteria.Select(c => new MetricComparison(c, values.TryGetValue(c.Metric, out var v) && !double.IsNaN(v) ? v : null, null)).ToList(), noBaseline: true)
            {
                CandidateRunId = candidateRunId,
            };
        }
        else
        {
            if (string.IsNullOrEmpty(version.RunId))
            {
                throw new MlflowException($"Version {version.Version} of model '{modelName}' (alias '{alias}') has no run to compare with.");
            }

            var baseline = await getRun(version.RunId, cancellationToken).ConfigureAwait(false);
            result = gate.Compare(candidate, baseline);
            result.BaselineVersion = version.Version;
        }

        if (candidateVersion is not null && result.CandidateWins && candidateVersion != result.BaselineVersion)
        {
            await registry.SetAliasAsync(modelName, alias, candidateVersion, cancellationToken).ConfigureAwait(false);
            result.AliasMoved = true;
        }

        return result;
    }
}

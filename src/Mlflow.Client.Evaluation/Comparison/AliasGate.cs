using Mlflow.Client.Store;

namespace Mlflow.Client.Comparison;

/// <summary>The gate against the run behind a registered model's alias.</summary>
internal static class AliasGate
{
    public static async Task<GateResult> CompareAsync(EvaluationGate gate, IModelRegistryStore registry, Func<string, CancellationToken, Task<Run>> getRun, string candidateRunId, string modelName, string alias, string? candidateVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentException.ThrowIfNullOrEmpty(candidateRunId);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentException.ThrowIfNullOrEmpty(alias);
        var candidate = await getRun(candidateRunId, cancellationToken).ConfigureAwait(false);
        var version = await VersionByAliasAsync(registry, modelName, alias, cancellationToken).ConfigureAwait(false);
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

        result.AliasTarget = (modelName, alias);
        result.CandidateVersion = candidateVersion;
        if (candidateVersion is not null && result.CandidateWins && candidateVersion != result.BaselineVersion)
        {
            await registry.SetAliasAsync(modelName, alias, candidateVersion, cancellationToken).ConfigureAwait(false);
            result.AliasMoved = true;
        }

        return result;
    }

    /// <summary>The version the alias points at, or <see langword="null"/> when the model or the alias does not exist.</summary>
    private static async Task<ModelVersion?> VersionByAliasAsync(IModelRegistryStore registry, string modelName, string alias, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.GetModelVersionByAliasAsync(modelName, alias, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist
            || (ex.ErrorCode == MlflowErrorCode.InvalidParameterValue && ex.Message.Contains("not found", StringComparison.Ordinal)))
        {
            // No such model (RESOURCE_DOES_NOT_EXIST), or no such alias: MLflow answers INVALID_PARAMETER_VALUE
            // "Registered model alias <a> not found." from its server and its file registry alike.
            return null;
        }
    }
}

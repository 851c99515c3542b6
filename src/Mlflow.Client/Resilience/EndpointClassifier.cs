using System.Text.RegularExpressions;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Sorts requests by <see cref="EndpointKind"/>, from method and path. Any write not listed as a read or as idempotent
/// counts as non-idempotent, so a new endpoint is never retried blindly after an unknown outcome.
/// </summary>
/// <remarks>
/// Idempotent writes and why: set-tag and set-experiment-tag upsert; log-parameter accepts the same value again;
/// update sets fields; runs/delete and runs/restore answer 200 when already done; registry set-tag, update and alias
/// set values. Non-idempotent: every create (a second one makes a duplicate or answers RESOURCE_ALREADY_EXISTS),
/// log-metric and log-batch (the file backend appends duplicate points; sqlite rejects a NaN point sent twice),
/// delete-tag (404 the second time), experiments delete/restore, rename, transition-stage, log-inputs, log-model.
/// MLflow 3: finalize and set-tags of a logged model (PATCH) are idempotent; its create, params (400 on a key sent
/// twice), delete and delete-tag, and runs/outputs (400 when sent twice) are not. Traces: traces/search is a read, a
/// trace tag (PATCH) and an assessment update (PATCH) are idempotent; starting a trace is not (3.11.1's file store
/// answers 500 to the same trace id twice), nor are creating and deleting assessments, delete-traces and link-to-run.
/// Webhooks: an update (PATCH) sets the given fields again; create, delete (404 the second time) and test (it sends a
/// delivery) are not idempotent.
/// </remarks>
internal static partial class EndpointClassifier
{
    private static readonly HashSet<string> PostReads = new(StringComparer.Ordinal)
    {
        "mlflow/runs/search",
        "mlflow/experiments/search",
        "mlflow/registered-models/get-latest-versions",
        "mlflow/logged-models/search",
        "mlflow/traces/search",
        "mlflow/datasets/search",
    };

    private static readonly HashSet<string> IdempotentWrites = new(StringComparer.Ordinal)
    {
        "POST mlflow/runs/set-tag",
        "POST mlflow/runs/update",
        "POST mlflow/runs/log-parameter",
        "POST mlflow/runs/delete",
        "POST mlflow/runs/restore",
        "POST mlflow/experiments/update",
        "POST mlflow/experiments/set-experiment-tag",
        "POST mlflow/registered-models/set-tag",
        "POST mlflow/model-versions/set-tag",
        "POST mlflow/registered-models/alias",
        "PATCH mlflow/registered-models/update",
        "PATCH mlflow/model-versions/update",
    };

    /// <summary>The kind of a request.</summary>
    public static EndpointKind Classify(HttpMethod method, Uri? uri)
    {
        if (method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options)
        {
            return EndpointKind.Read;
        }

        var endpoint = Endpoint(uri);
        if (endpoint is null)
        {
            return EndpointKind.NonIdempotentWrite;
        }

        if (method == HttpMethod.Post && PostReads.Contains(endpoint))
        {
            return EndpointKind.Read;
        }

        // Uploading an artifact writes the same bytes to the same place again.
        if (method == HttpMethod.Put && endpoint.StartsWith("mlflow-artifacts/artifacts/", StringComparison.Ordinal))
        {
            return EndpointKind.IdempotentWrite;
        }

        // MLflow 3: finalizing a logged model sets its status, and its tags are upserted (3.11.1 answers 200 again).
        if (method == HttpMethod.Patch && LoggedModelPatchRegex().IsMatch(endpoint))
        {
            return EndpointKind.IdempotentWrite;
        }

        // MLflow 3: a trace tag is upserted; an assessment update sets the given fields again.
        if (method == HttpMethod.Patch && TracePatchRegex().IsMatch(endpoint))
        {
            return EndpointKind.IdempotentWrite;
        }

        // MLflow 3.3+: a webhook update sets the given fields again.
        if (method == HttpMethod.Patch && WebhookPatchRegex().IsMatch(endpoint))
        {
            return EndpointKind.IdempotentWrite;
        }

        return IdempotentWrites.Contains(method.Method + " " + endpoint) ? EndpointKind.IdempotentWrite : EndpointKind.NonIdempotentWrite;
    }

    /// <summary>Whether the answer is a file download that should stream rather than be buffered per attempt.</summary>
    public static bool IsDownload(HttpMethod method, Uri? uri)
    {
        if (method != HttpMethod.Get || uri is null || !uri.IsAbsoluteUri)
        {
            return false;
        }

        var path = uri.AbsolutePath;
        return path.Contains("/mlflow-artifacts/artifacts/", StringComparison.Ordinal) || path.EndsWith("/get-artifact", StringComparison.Ordinal);
    }

    /// <summary>Whether a success answer is a JSON object: the tracking and registry REST endpoints (<c>…/mlflow/…</c>).</summary>
    public static bool ExpectsJson(Uri? uri) => Endpoint(uri)?.StartsWith("mlflow/", StringComparison.Ordinal) == true;

    /// <summary>The part after <c>/api/2.0/</c> (or <c>/ajax-api/…</c>, any version), e.g. <c>mlflow/runs/create</c>; <see langword="null"/> for other paths.</summary>
    internal static string? Endpoint(Uri? uri)
    {
        if (uri is null)
        {
            return null;
        }

        var path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', 2)[0];
        var match = ApiPathRegex().Match(path);
        return match.Success ? match.Groups[1].Value.TrimEnd('/') : null;
    }

    [GeneratedRegex(@"/(?:ajax-)?api/\d+\.\d+/(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ApiPathRegex();

    /// <summary><c>mlflow/logged-models/{id}</c> (finalize) and <c>mlflow/logged-models/{id}/tags</c> (set tags).</summary>
    [GeneratedRegex(@"^mlflow/logged-models/[^/]+(?:/tags)?$", RegexOptions.CultureInvariant)]
    private static partial Regex LoggedModelPatchRegex();

    /// <summary><c>mlflow/traces/{id}/tags</c> (set a trace tag) and <c>mlflow/traces/{id}/assessments/{id}</c> (update an assessment).</summary>
    [GeneratedRegex(@"^mlflow/traces/[^/]+/(?:tags|assessments/[^/]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex TracePatchRegex();

    /// <summary><c>mlflow/webhooks/{id}</c> (update a webhook).</summary>
    [GeneratedRegex(@"^mlflow/webhooks/[^/]+$", RegexOptions.CultureInvariant)]
    private static partial Regex WebhookPatchRegex();
}

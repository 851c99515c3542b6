using System.Globalization;
using System.Net;

namespace Mlflow.Client;

// What the server supports, learned once per client from GET /version and (MLflow 3) GET /api/3.0/mlflow/server-info,
// never by trying an endpoint on every call.
public partial class MlflowClient
{
    private readonly SemaphoreSlim _serverInfoGate = new(1, 1);
    private MlflowServerInfo? _serverInfo;

    /// <summary>The server facts when this client has read them (<see cref="GetServerInfoAsync"/>), without a request; else <see langword="null"/>.</summary>
    internal MlflowServerInfo? KnownServerInfo => Volatile.Read(ref _serverInfo);

    /// <summary>
    /// What the tracking server is and supports (<see cref="MlflowServerInfo"/>), read once per client and kept:
    /// <c>GET /version</c>, then <c>GET /api/3.0/mlflow/server-info</c> unless the version is below 3.
    /// </summary>
    /// <remarks>
    /// A server that answers 404 (or another refusal) on <c>/version</c> gives <see cref="MlflowServerInfo.Version"/>
    /// <see langword="null"/>; then server-info decides: an answer means MLflow 3, none means logged models are not
    /// supported. A failure that may heal (no answer, 503...) is thrown and not kept, so the next call asks again.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the requests (a cancelled read is not kept).</param>
    /// <returns>The server facts.</returns>
    /// <exception cref="MlflowException">The server could not be reached (<see cref="MlflowException.IsTransient"/>).</exception>
    public virtual async Task<MlflowServerInfo> GetServerInfoAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _serverInfo) is { } known)
        {
            return known;
        }

        await _serverInfoGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_serverInfo is { } raced)
            {
                return raced;
            }

            var info = await ReadServerInfoAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _serverInfo, info);
            return info;
        }
        finally
        {
            _serverInfoGate.Release();
        }
    }

    private async Task<MlflowServerInfo> ReadServerInfoAsync(CancellationToken cancellationToken)
    {
        string? version = null;
        try
        {
            version = NullIfEmpty(await GetServerVersionAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (MlflowException ex) when (IsAbsentEndpoint(ex))
        {
            // An older or trimmed server (or a proxy in front of it) without /version: server-info decides below.
        }

        var major = MajorOf(version);
        Rest.ServerInfoResponse? serverInfo = null;
        if (major is null or >= 3)
        {
            try
            {
                serverInfo = await CallAsync(() => _artifacts.GetServerInfoAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException ex) when (IsAbsentEndpoint(ex))
            {
                // No server-info: an MLflow 2 server, or an MLflow 3 one behind a proxy that does not route /api/3.0.
            }
        }

        return new MlflowServerInfo
        {
            Version = version,
            MajorVersion = major,
            SupportsLoggedModels = major is { } m ? m >= 3 : serverInfo is not null,
            HasServerInfoEndpoint = serverInfo is not null,
            StoreType = serverInfo?.StoreType,
            WorkspacesEnabled = serverInfo?.WorkspacesEnabled,
        };
    }

    /// <summary>An answer that says the endpoint is not there (404, 405, 501), or not for us (401, 403 stay errors).</summary>
    private static bool IsAbsentEndpoint(MlflowException ex)
        => ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented;

    /// <summary>The major version of <c>3.11.1</c>, <c>3.0.0rc1</c>, <c>2.12.2.dev0</c>; <see langword="null"/> for text that is not a version.</summary>
    internal static int? MajorOf(string? version)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            return null;
        }

        var text = version.Trim();
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && text.Length > dot + 1 && char.IsAsciiDigit(text[dot + 1])
            && int.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            ? major
            : null;
    }
}

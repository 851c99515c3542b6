using Mlflow.Client.Store;

namespace Mlflow.Client;

/// <summary>
/// The model registry, the way MLflow's fluent API and <c>MlflowClient</c> use it: register a run's model in one call,
/// point aliases at versions, tag and describe them, resolve <c>models:/</c> URIs and download a version's files.
/// Get it from <see cref="MlflowTracker.Registry"/> (a tracking server's registry, or the file-based registry of a
/// local store in MLflow's own format), or create one over an <see cref="MlflowClient"/>. Thread-safe.
/// </summary>
public sealed partial class MlflowModelRegistry
{
    private readonly ITrackingStore _tracking;
    private readonly IModelRegistryStore _registry;
    private readonly MlflowClient? _client;

    /// <summary>A registry over a tracking server's REST API.</summary>
    /// <param name="client">The client of the tracking server; not disposed by the registry.</param>
    public MlflowModelRegistry(MlflowClient client)
        : this(new RestTrackingStore(client ?? throw new ArgumentNullException(nameof(client)), ownsClient: false), new RestModelRegistryStore(client), client)
    {
    }

    internal MlflowModelRegistry(ITrackingStore tracking, IModelRegistryStore registry, MlflowClient? client)
    {
        _tracking = tracking;
        _registry = registry;
        _client = client;
    }

    /// <summary>The clock of the wait for READY (tests pass a fake one).</summary>
    internal TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The registry store underneath (the server's, or MLflow's file registry of a local store).</summary>
    internal IModelRegistryStore Store => _registry;

    /// <summary>
    /// Registers a model in one call, as MLflow's <c>register_model</c>: creates the registered model when missing,
    /// creates a version whose source is what MLflow records (for <c>runs:/&lt;run id&gt;/&lt;path&gt;</c>, the run's
    /// artifact URI joined with the path; the run id is recorded too), waits until it is READY and returns it. On an
    /// MLflow 3 server, a <c>models:/m-&lt;id&gt;</c> URI registers that logged model (source <c>models:/m-&lt;id&gt;</c>,
    /// <c>model_id</c> set), and a <c>runs:/</c> URI whose path holds no <c>MLmodel</c> registers the run's logged model
    /// of that name (what <see cref="ActiveRun.LogModel(string, string, MlflowModelOptions?)"/> creates there), as
    /// MLflow 3.11.1's Python does.
    /// </summary>
    /// <param name="modelUri">Where the model is: <c>runs:/&lt;run id&gt;/&lt;path&gt;</c>, an artifact URI or a path.</param>
    /// <param name="name">The registered model's name.</param>
    /// <param name="options">Tags, description and how long to wait for READY.</param>
    /// <returns>The new version.</returns>
    /// <exception cref="MlflowException">The registry refused, the version failed to register, or it was not READY within <see cref="RegisterModelOptions.AwaitReadyTimeout"/>.</exception>
    public ModelVersion RegisterModel(string modelUri, string name, RegisterModelOptions? options = null)
        => RegisterModelAsync(modelUri, name, options).GetAwaiter().GetResult();

    /// <inheritdoc cref="RegisterModel(string, string, RegisterModelOptions?)"/>
    /// <param name="modelUri">Where the model is: <c>runs:/&lt;run id&gt;/&lt;path&gt;</c>, an artifact URI or a path.</param>
    /// <param name="name">The registered model's name.</param>
    /// <param name="options">Tags, description and how long to wait for READY.</param>
    /// <param name="cancellationToken">Cancels the registration and the wait.</param>
    public async Task<ModelVersion> RegisterModelAsync(string modelUri, string name, RegisterModelOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelUri);
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new RegisterModelOptions();
        if (options.AwaitReadyTimeout < TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("AwaitReadyTimeout must not be negative and PollInterval must be positive.", nameof(options));
        }

        var tags = (options.Tags ?? []).Select(t => new Tag(t.Key, t.Value)).ToList();
        string? runId = null;
        var source = modelUri;
        if (RunsUri.TryParse(modelUri, out var run, out var path))
        {
            runId = run;
            source = await LoggedModelSourceAsync(run, path, cancellationToken).ConfigureAwait(false)
                ?? await ResolveRunsUriAsync(run, path, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _registry.CreateRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.ErrorCode is MlflowErrorCode.ResourceAlreadyExists or MlflowErrorCode.AlreadyExists)
        {
            // registered before: this is a new version of it
        }

        var version = await _registry.CreateModelVersionAsync(name, source, runId, tags, options.Description, cancellationToken).ConfigureAwait(false);
        return await AwaitReadyAsync(version, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Registers the model a run logged at <paramref name="artifactPath"/> (<c>runs:/&lt;runId&gt;/&lt;artifactPath&gt;</c>); see <see cref="RegisterModel(string, string, RegisterModelOptions?)"/>.</summary>
    /// <param name="runId">The run that logged the model.</param>
    /// <param name="artifactPath">The model's folder under the run's artifacts, for example <c>model</c>.</param>
    /// <param name="name">The registered model's name.</param>
    /// <param name="options">Tags, description and how long to wait for READY.</param>
    /// <returns>The new version.</returns>
    public ModelVersion RegisterModel(string runId, string artifactPath, string name, RegisterModelOptions? options = null)
        => RegisterModelAsync(runId, artifactPath, name, options).GetAwaiter().GetResult();

    /// <inheritdoc cref="RegisterModel(string, string, string, RegisterModelOptions?)"/>
    /// <param name="runId">The run that logged the model.</param>
    /// <param name="artifactPath">The model's folder under the run's artifacts, for example <c>model</c>.</param>
    /// <param name="name">The registered model's name.</param>
    /// <param name="options">Tags, description and how long to wait for READY.</param>
    /// <param name="cancellationToken">Cancels the registration and the wait.</param>
    public Task<ModelVersion> RegisterModelAsync(string runId, string artifactPath, string name, RegisterModelOptions? options = null, CancellationToken cancellationToken = default)
    {
        MlflowValidation.ValidateRunId(runId);
        ArgumentException.ThrowIfNullOrEmpty(artifactPath);
        return RegisterModelAsync("runs:/" + runId + "/" + artifactPath.Trim('/'), name, options, cancellationToken);
    }

    /// <summary>Gets a registered model with its tags, aliases and newest versions.</summary>
    /// <param name="name">The model name.</param>
    /// <returns>The model.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such model.</exception>
    public RegisteredModel GetRegisteredModel(string name) => GetRegisteredModelAsync(name).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetRegisteredModel"/>
    /// <param name="name">The model name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken = default)
        => _registry.GetRegisteredModelAsync(Required(name), cancellationToken);

    /// <summary>Sets a registered model's description.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="description">The description; <see langword="null"/> clears it.</param>
    /// <returns>The updated model.</returns>
    public RegisteredModel SetModelDescription(string name, string? description) => SetModelDescriptionAsync(name, description).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetModelDescription"/>
    /// <param name="name">The model name.</param>
    /// <param name="description">The description; <see langword="null"/> clears it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<RegisteredModel> SetModelDescriptionAsync(string name, string? description, CancellationToken cancellationToken = default)
        => _registry.UpdateRegisteredModelAsync(Required(name), description, cancellationToken);

    /// <summary>Gets one version of a model.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <returns>The version.</returns>
    public ModelVersion GetModelVersion(string name, string version) => GetModelVersionAsync(name, version).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetModelVersion"/>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
        => _registry.GetModelVersionAsync(Required(name), Required(version), cancellationToken);

    /// <summary>Gets the newest version of a model, whatever its stage (what <c>models:/name/latest</c> names).</summary>
    /// <param name="name">The model name.</param>
    /// <returns>The version with the highest number.</returns>
    /// <exception cref="MlflowException">The model has no version.</exception>
    public ModelVersion GetLatestVersion(string name) => GetLatestVersionAsync(name).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetLatestVersion"/>
    /// <param name="name">The model name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<ModelVersion> GetLatestVersionAsync(string name, CancellationToken cancellationToken = default)
        => LatestAsync(Required(name), null, cancellationToken);

    /// <summary>Sets a version's description.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="description">The description; <see langword="null"/> clears it.</param>
    /// <returns>The updated version.</returns>
    public ModelVersion SetVersionDescription(string name, string version, string? description) => SetVersionDescriptionAsync(name, version, description).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetVersionDescription"/>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="description">The description; <see langword="null"/> clears it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<ModelVersion> SetVersionDescriptionAsync(string name, string version, string? description, CancellationToken cancellationToken = default)
        => _registry.UpdateModelVersionAsync(Required(name), Required(version), description, cancellationToken);

    /// <summary>Sets a tag on a version.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="value">The tag value.</param>
    public void SetVersionTag(string name, string version, string key, string value) => SetVersionTagAsync(name, version, key, value).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetVersionTag"/>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="value">The tag value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the tag is set.</returns>
    public Task SetVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken = default)
        => _registry.SetModelVersionTagAsync(Required(name), Required(version), Required(key), value ?? "", cancellationToken);

    /// <summary>Deletes a tag of a version.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">The tag key.</param>
    public void DeleteVersionTag(string name, string version, string key) => DeleteVersionTagAsync(name, version, key).GetAwaiter().GetResult();

    /// <inheritdoc cref="DeleteVersionTag"/>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the tag is gone.</returns>
    public Task DeleteVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken = default)
        => _registry.DeleteModelVersionTagAsync(Required(name), Required(version), Required(key), cancellationToken);

    /// <summary>Points an alias (for example <c>champion</c>) at a version, moving it when it pointed elsewhere.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias: letters, digits, '_' and '-'; <c>latest</c> and <c>v&lt;number&gt;</c> are reserved.</param>
    /// <param name="version">The version number, as text.</param>
    public void SetAlias(string name, string alias, string version) => SetAliasAsync(name, alias, version).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetAlias"/>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the alias is set.</returns>
    public Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken = default)
        => _registry.SetAliasAsync(Required(name), Required(alias), Required(version), cancellationToken);

    /// <summary>Removes an alias.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    public void DeleteAlias(string name, string alias) => DeleteAliasAsync(name, alias).GetAwaiter().GetResult();

    /// <inheritdoc cref="DeleteAlias"/>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the alias is gone.</returns>
    public Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
        => _registry.DeleteAliasAsync(Required(name), Required(alias), cancellationToken);

    /// <summary>Gets the version an alias points at.</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <returns>The version.</returns>
    public ModelVersion GetVersionByAlias(string name, string alias) => GetVersionByAliasAsync(name, alias).GetAwaiter().GetResult();

    /// <inheritdoc cref="GetVersionByAlias"/>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<ModelVersion> GetVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
        => _registry.GetModelVersionByAliasAsync(Required(name), Required(alias), cancellationToken);

    /// <summary>
    /// Resolves a <c>models:/</c> URI to the version it names, as MLflow does: <c>models:/name/3</c>,
    /// <c>models:/name@alias</c>, <c>models:/name/latest</c> (the highest version) or <c>models:/name/Stage</c>
    /// (the newest version in that stage). A <c>models:/m-&lt;id&gt;</c> URI names a logged model, not a version, and is refused.
    /// </summary>
    /// <param name="modelUri">The URI.</param>
    /// <returns>The version.</returns>
    public ModelVersion ResolveModelUri(string modelUri) => ResolveModelUriAsync(modelUri).GetAwaiter().GetResult();

    /// <inheritdoc cref="ResolveModelUri"/>
    /// <param name="modelUri">The URI.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <exception cref="MlflowException">The URI is not a proper models:/ URI, names no version, or names a logged model (<c>models:/m-&lt;id&gt;</c>), which is not a registered version: download it with <see cref="DownloadModelAsync"/> or read it with <see cref="MlflowClient.GetLoggedModelAsync"/>.</exception>
    public Task<ModelVersion> ResolveModelUriAsync(string modelUri, CancellationToken cancellationToken = default)
    {
        var parsed = ModelUri.Parse(modelUri);
        if (parsed.ModelId is { } modelId)
        {
            throw new MlflowException($"'{modelUri}' names the logged model '{modelId}' (MLflow 3), not a registered model version. DownloadModel accepts it; MlflowClient.GetLoggedModelAsync reads it.");
        }

        return parsed switch
        {
            { Version: { } v } => _registry.GetModelVersionAsync(parsed.Name, v, cancellationToken),
            { Alias: { } a } => _registry.GetModelVersionByAliasAsync(parsed.Name, a, cancellationToken),
            _ => LatestAsync(parsed.Name, parsed.Stage, cancellationToken),
        };
    }

    private async Task<ModelVersion> LatestAsync(string name, string? stage, CancellationToken cancellationToken)
    {
        var latest = await _registry.GetLatestVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        var candidates = stage is null ? latest : latest.Where(v => string.Equals(v.CurrentStage, stage, StringComparison.OrdinalIgnoreCase)).ToList();
        return candidates.MaxBy(v => long.TryParse(v.Version, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : -1)
            ?? throw new MlflowException($"No versions of model with name '{name}'{(stage is null ? "" : $" and stage '{stage}'")} found");
    }

    /// <summary>Waits (bounded) while the version is PENDING_REGISTRATION, as MLflow's <c>await_registration_for</c>.</summary>
    private async Task<ModelVersion> AwaitReadyAsync(ModelVersion version, RegisterModelOptions options, CancellationToken cancellationToken)
    {
        if (options.AwaitReadyTimeout == TimeSpan.Zero)
        {
            return version;
        }

        var started = TimeProvider.GetTimestamp();
        while (version.Status == ModelVersionStatus.PendingRegistration)
        {
            if (TimeProvider.GetElapsedTime(started) >= options.AwaitReadyTimeout)
            {
                throw new MlflowException($"Model '{version.Name}' version {version.Version} was not READY within {options.AwaitReadyTimeout.TotalSeconds:0.###} s (status PENDING_REGISTRATION). It stays registered; read it later with GetModelVersion, or pass a longer RegisterModelOptions.AwaitReadyTimeout.");
            }

            await Task.Delay(options.PollInterval, TimeProvider, cancellationToken).ConfigureAwait(false);
            version = await _registry.GetModelVersionAsync(version.Name, version.Version, cancellationToken).ConfigureAwait(false);
        }

        if (version.Status is { } status && status != ModelVersionStatus.Ready)
        {
            throw new MlflowException($"Model '{version.Name}' version {version.Version} failed to register (status {status}): {version.StatusMessage}");
        }

        return version;
    }

    /// <summary>The run's artifact URI joined with the path, as MLflow's <c>RunsArtifactRepository.get_underlying_uri</c>.</summary>
    private async Task<string> ResolveRunsUriAsync(string runId, string path, CancellationToken cancellationToken)
    {
        var run = await _tracking.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        var root = run.Info.ArtifactUri;
        if (string.IsNullOrEmpty(root))
        {
            throw new MlflowException($"Run {runId} has no artifact URI: its model cannot be located.");
        }

        return path.Length == 0 ? root : root.TrimEnd('/') + "/" + path;
    }

    private static string Required(string value, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(value))] string? parameter = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameter);
        return value;
    }
}

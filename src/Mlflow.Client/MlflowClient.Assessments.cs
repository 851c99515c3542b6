using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;
using Mlflow.Client.Tracing;

namespace Mlflow.Client;

// MLflow 3's assessments: feedback and expectations attached to a trace (/api/3.0/mlflow/traces/{id}/assessments).
public partial class MlflowClient
{
    /// <summary>Attaches feedback or an expectation to a trace (<c>POST /api/3.0/mlflow/traces/{trace_id}/assessments</c>; MLflow 3 servers).</summary>
    /// <remarks>
    /// Build it with <see cref="Assessment.CreateFeedback"/> or <see cref="Assessment.CreateExpectation"/>. Sent once:
    /// after a lost answer the trace's assessments are read back and the one with this name, source and creation time taken.
    /// </remarks>
    /// <param name="assessment">The assessment, with its <see cref="Assessment.TraceId"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The assessment as stored, with its id.</returns>
    /// <exception cref="ArgumentException">The assessment is incomplete (no trace, name, source, or not exactly one of feedback and expectation).</exception>
    public virtual async Task<Assessment> CreateAssessmentAsync(Assessment assessment, CancellationToken cancellationToken = default)
    {
        TraceWireMapping.Validate(assessment, nameof(assessment));
        Require(assessment.TraceId, nameof(assessment) + "." + nameof(Assessment.TraceId));
        foreach (var (key, value) in assessment.Metadata)
        {
            RefuseLoneSurrogates(key, value, "assessment metadata");
        }

        var traceId = assessment.TraceId!;
        var wire = TraceWireMapping.ToWire(assessment, Clock.GetUtcNow().ToUnixTimeMilliseconds());
        var sent = TraceWireMapping.FromWire(wire);
        Assessment? created = null;
        await LostAnswerRecovery.SendAsync(
            async () =>
            {
                var response = await TraceCallAsync(() => _tracking.CreateAssessmentAsync(traceId, new CreateAssessmentRequest(wire), cancellationToken), cancellationToken).ConfigureAwait(false);
                created = TraceWireMapping.FromWire(response.Assessment ?? throw new MlflowException("assessments create answered without an assessment."));
            },
            async () =>
            {
                var held = (await GetTraceInfoAsync(traceId, cancellationToken).ConfigureAwait(false)).Assessments;
                created = held.FirstOrDefault(a => a.Name == sent.Name && a.Source == sent.Source && a.CreateTimeMs == sent.CreateTimeMs && a.SpanId == sent.SpanId);
                return created is not null;
            },
            "assessments/create",
            _logger).ConfigureAwait(false);
        return created!;
    }

    /// <summary>Reads one assessment (<c>GET /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}</c>; MLflow 3 servers).</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="assessmentId">The assessment id (<c>a-…</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The assessment.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is none.</exception>
    public virtual async Task<Assessment> GetAssessmentAsync(string traceId, string assessmentId, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        Require(assessmentId, nameof(assessmentId));
        var response = await TraceCallAsync(() => _tracking.GetAssessmentAsync(traceId, assessmentId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return TraceWireMapping.FromWire(response.Assessment ?? throw new MlflowException("assessments get answered without an assessment."));
    }

    /// <summary>Changes an assessment (<c>PATCH /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}</c>; MLflow 3 servers).</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="assessmentId">The assessment id.</param>
    /// <param name="update">What changes; the rest stays.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The assessment as it is now.</returns>
    /// <exception cref="ArgumentException">The update changes nothing, or both a feedback and an expectation.</exception>
    public virtual async Task<Assessment> UpdateAssessmentAsync(string traceId, string assessmentId, AssessmentUpdate update, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        Require(assessmentId, nameof(assessmentId));
        var request = TraceWireMapping.UpdateToWire(traceId, assessmentId, update, nameof(update));
        var response = await TraceCallAsync(() => _tracking.UpdateAssessmentAsync(traceId, assessmentId, request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return TraceWireMapping.FromWire(response.Assessment ?? throw new MlflowException("assessments update answered without an assessment."));
    }

    /// <summary>Deletes an assessment (<c>DELETE /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}</c>; MLflow 3 servers).</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="assessmentId">The assessment id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteAssessmentAsync(string traceId, string assessmentId, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        Require(assessmentId, nameof(assessmentId));
        return LostAnswerRecovery.SendAsync(
            () => TraceCallAsync(() => _tracking.DeleteAssessmentAsync(traceId, assessmentId, cancellationToken), cancellationToken),
            () => LostAnswerRecovery.IsGoneAsync(() => GetAssessmentAsync(traceId, assessmentId, cancellationToken)),
            "assessments/delete",
            _logger);
    }
}

import type {SchedulerConfig} from './component-configs.js';
import {ConfigFields, equals, unsupportedModel, type ParsedConfig} from './config-fields.js';

const BETA_SCHEDULES: readonly SchedulerConfig['betaSchedule'][] = ['scaled_linear', 'linear'];

/**
 * scheduler/scheduler_config.json -> SchedulerConfig with DDIMScheduler's defaults, because
 * FateZero builds a DDIMScheduler from whatever scheduler config the folder has (SD-1.x folders
 * usually ship a PNDMScheduler one), so `_class_name` is not checked. The beta keys are required:
 * DDIM's defaults (linear 0.0001..0.02) are a pixel-space schedule, wrong for any SD latent UNet.
 */
export const parseSchedulerConfig = (raw: unknown, path: string): ParsedConfig<SchedulerConfig> => {
	const f = ConfigFields.of(raw, path, 'diffusers scheduler');
	const warnings: string[] = [];

	const predictionType = f.string('prediction_type', 'epsilon');
	if (predictionType !== 'epsilon') {
		const why = predictionType === 'v_prediction' ? 'a v-prediction model such as SD 2.x 768-v' : 'a UNet that does not predict noise';
		throw unsupportedModel(path, `prediction_type is ${JSON.stringify(predictionType)} (${why}); SD-1.x predicts noise: "epsilon"`);
	}
	f.expectDefault('trained_betas', equals(), 'null', 'a hand-made beta table');
	f.expectDefault('rescale_betas_zero_snr', equals(false), 'false', 'zero-terminal-SNR betas');
	const betaSchedule = f.string('beta_schedule');
	if (!BETA_SCHEDULES.includes(betaSchedule as SchedulerConfig['betaSchedule'])) {
		throw unsupportedModel(path, `beta_schedule is ${JSON.stringify(betaSchedule)}; supported: ${BETA_SCHEDULES.join(', ')}`);
	}
	const betaStart = f.positiveNumber('beta_start');
	const betaEnd = f.positiveNumber('beta_end');
	if (!(betaStart < betaEnd && betaEnd < 1)) {
		throw f.invalid('beta_end', betaEnd, `a number above beta_start ${betaStart} and below 1`);
	}

	const clipSample = f.bool('clip_sample', true);
	if (clipSample) {
		warnings.push(
			`${path}: clip_sample is ${f.has('clip_sample') ? 'true' : 'missing (DDIMScheduler then defaults to true)'}; FateZero's setups expect false. Every DDIM step will clip the predicted latent to [-1, 1], which changes SD results. Set "clip_sample": false unless you want that.`,
		);
	}
	if (f.get('thresholding') === true) {
		warnings.push(`${path}: thresholding is true; FateZero's DDIM steps do not threshold, so it is ignored.`);
	}
	const spacing = f.get('timestep_spacing');
	if (spacing !== undefined && spacing !== 'leading') {
		warnings.push(`${path}: timestep_spacing is ${JSON.stringify(spacing)}; FateZero spaces DDIM timesteps "leading" (as diffusers 0.11 did), so it is ignored.`);
	}

	const config: SchedulerConfig = {
		numTrainTimesteps: f.int('num_train_timesteps', 1000),
		betaStart,
		betaEnd,
		betaSchedule: betaSchedule as SchedulerConfig['betaSchedule'],
		setAlphaToOne: f.bool('set_alpha_to_one', true),
		stepsOffset: f.int('steps_offset', 0, 0),
		clipSample,
		predictionType: 'epsilon',
	};
	return {config, warnings};
};

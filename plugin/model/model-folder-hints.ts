/**
 * The "what to do" halves of model-folder messages, shared so every error gives the same advice.
 * DIR, REPO and FILE are placeholders the user fills in.
 */

export const SD1_LAYOUT = 'model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/';

export const DOWNLOAD_SAFETENSORS =
	'download the safetensors files of the model (e.g. `huggingface-cli download REPO --include "*.safetensors" "*.json" "*.txt" --local-dir DIR`, with REPO such as CompVis/stable-diffusion-v1-4)';

export const CONVERT_PICKLES =
	"convert the folder once in Python: `from diffusers import StableDiffusionPipeline; StableDiffusionPipeline.from_pretrained('DIR').save_pretrained('DIR', safe_serialization=True)`";

export const convertSingleFile = (file: string): string =>
	`Convert it once in Python: \`from diffusers import StableDiffusionPipeline; StableDiffusionPipeline.from_single_file('${file}').save_pretrained('OUT', safe_serialization=True)\`, then pass --model OUT.`;

/** Single-file checkpoints people download from model sites. */
export const SINGLE_FILE_CHECKPOINT = /\.(ckpt|safetensors|pt|pth|bin)$/i;

export const PICKLE_FILE = /\.(ckpt|pt|pth|bin|pkl)$/i;

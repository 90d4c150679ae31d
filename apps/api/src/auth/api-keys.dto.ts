import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsBoolean, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ROLES, type Role } from './roles';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'Who uses the key (recorded as the actor of what it does)', example: 'billing-service' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['writer'] })
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(ROLES, { each: true })
  roles!: Role[];

  @ApiPropertyOptional({ description: 'Teams the key is limited to; absent: every team', example: ['direct'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Matches(/^\S+$/, { each: true, message: 'each team id must be a non-empty string without spaces' })
  teams?: string[];

  @ApiPropertyOptional({ description: 'May name the person it acts for (X-Actor)', default: false })
  @IsOptional()
  @IsBoolean()
  mayActOnBehalf?: boolean;
}
